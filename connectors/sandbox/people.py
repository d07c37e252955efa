"""The organisation's people: Jira accounts, each with a GitHub login, plus bots."""

from __future__ import annotations

from dataclasses import dataclass

from connectors.sandbox.seeding import STREAM_USER, mix64, rng

_FIRST = [
    "Ada",
    "Alan",
    "Amara",
    "Bea",
    "Boris",
    "Chen",
    "Chidi",
    "Dana",
    "Dario",
    "Elif",
    "Emma",
    "Farah",
    "Felix",
    "Gita",
    "Hana",
    "Hugo",
    "Ines",
    "Ivan",
    "Jae",
    "Joao",
    "Kai",
    "Kemal",
    "Lena",
    "Liam",
    "Maya",
    "Mateo",
    "Nadia",
    "Nils",
    "Olga",
    "Omar",
    "Priya",
    "Quinn",
    "Rafael",
    "Rosa",
    "Sami",
    "Sara",
    "Tariq",
    "Tess",
    "Uma",
    "Viktor",
    "Wei",
    "Yara",
    "Yusuf",
    "Zoe",
]
_LAST = [
    "Abara",
    "Berg",
    "Costa",
    "Diallo",
    "Eriksen",
    "Fischer",
    "Garcia",
    "Haddad",
    "Ito",
    "Jensen",
    "Kowalski",
    "Larsen",
    "Moreau",
    "Nakamura",
    "Okafor",
    "Petrov",
    "Quispe",
    "Rossi",
    "Santos",
    "Tanaka",
    "Ueda",
    "Varga",
    "Weber",
    "Xu",
    "Yilmaz",
    "Zhang",
]
_ZONES = ("Europe/Berlin", "Europe/London", "America/New_York", "Asia/Kolkata", "UTC")


@dataclass(frozen=True, slots=True)
class User:
    index: int
    account_id: str
    display_name: str
    email: str | None
    time_zone: str
    active: bool
    account_type: str  # "atlassian" | "app"
    github_login: str | None


def make_user(seed: int, index: int) -> User:
    r = rng(seed, STREAM_USER, index)
    first = _FIRST[(index + r.randrange(len(_FIRST))) % len(_FIRST)]
    last = r.choice(_LAST)
    account_id = f"{mix64(seed, STREAM_USER, index, 1):016x}{index:08x}"
    login = f"{first.lower()}-{last.lower()}" if r.random() < 0.92 else None
    return User(
        index=index,
        account_id=account_id,
        display_name=f"{first} {last}",
        # Jira hides e-mail addresses unless the user allows it; most do not.
        email=f"{first.lower()}.{last.lower()}@example.com" if r.random() < 0.4 else None,
        time_zone=r.choice(_ZONES),
        active=r.random() > 0.05,
        account_type="atlassian",
        github_login=login and f"{login}{index}",
    )


def automation_user(seed: int) -> User:
    """Jira's "Automation for Jira" app account, which writes some changelog entries."""
    return User(
        index=-1,
        account_id=f"557058:{mix64(seed, STREAM_USER, 999_999):016x}",
        display_name="Automation for Jira",
        email=None,
        time_zone="UTC",
        active=True,
        account_type="app",
        github_login=None,
    )


GITHUB_BOTS: tuple[str, ...] = ("dependabot[bot]", "renovate[bot]")
