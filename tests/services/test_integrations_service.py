"""Integrations: validation, tokens only in the secret store, tests against the simulators."""

from __future__ import annotations

import httpx
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select, text

from connectors.sandbox.azure_devops import AdoOrg, AzureDevOpsSimulator
from connectors.sandbox.credentials import DEMO_GITHUB_TOKEN, DEMO_JIRA
from connectors.sandbox.github import GitHubSimulator
from connectors.sandbox.jira import JiraSimulator
from connectors.sandbox.org import Org
from pulse_console.pipelines.aha.options import AhaSyncOptions
from pulse_console.pipelines.azure_devops.options import AzureDevOpsSyncOptions
from pulse_console.pipelines.base import IntegrationRef
from pulse_console.pipelines.github.options import GitHubSyncConfig
from pulse_console.pipelines.jira.options import JiraSyncOptions
from pulse_console.services import audit, integrations
from pulse_console.services.integration_fields import (
    FormValue,
    field_problems,
    form_types,
    form_values,
    to_config,
)
from pulse_console.services.integrations import IntegrationDraft, ValidationFailed
from storage.db import Database
from storage.integrations import save_integration
from storage.models import Integration
from storage.secrets import DatabaseSecretStore
from storage.tenancy import ensure_client

URL = "https://sandbox.atlassian.net"


@pytest.fixture
def secrets(database: Database) -> DatabaseSecretStore:
    return DatabaseSecretStore(database.engine, Fernet.generate_key())


@pytest.fixture(scope="module")
def jira_transport() -> httpx.MockTransport:
    sim = JiraSimulator(Org(7, "small"), DEMO_JIRA)

    def handle(request: httpx.Request) -> httpx.Response:
        # The client asks /rest/api/2/serverInfo (both versions exist on real Jira Cloud);
        # the simulator serves only /rest/api/3/serverInfo so far.
        if request.url.path == "/rest/api/2/serverInfo":
            request.url = request.url.copy_with(path="/rest/api/3/serverInfo")
        return sim.handle(request)

    return httpx.MockTransport(handle)


OPTIONS = {
    "jira": JiraSyncOptions,
    "github": GitHubSyncConfig,
    "azure_devops": AzureDevOpsSyncOptions,
    "aha": AhaSyncOptions,
}


def options_of(kind: str, ref: IntegrationRef) -> JiraSyncOptions | GitHubSyncConfig | object:
    """The options the type's sync builds from the stored integration."""
    return OPTIONS[kind].from_integration(ref)  # type: ignore[attr-defined]


def stored(config: dict[str, object]) -> dict[str, object]:
    """What saving keeps of a form's config: an emptied setting is dropped (its default)."""
    return {key: value for key, value in config.items() if value is not None}


def draft(**changes: object) -> IntegrationDraft:
    base = IntegrationDraft("jira-main", "jira", URL, DEMO_JIRA.email, DEMO_JIRA.api_token)
    return IntegrationDraft(**{**base.__dict__, **changes})  # type: ignore[arg-type]


def test_validation_names_each_bad_field() -> None:
    errors = integrations.validate(
        draft(name="bad name", base_url="acme", email="nope", token=None)
    )
    assert set(errors) == {"name", "base_url", "email", "token"}
    assert integrations.validate(draft()) == {}


def test_saved_token_lives_in_the_secret_store_not_the_row(
    database: Database, secrets: DatabaseSecretStore
) -> None:
    new_id = integrations.save(database, "acme", draft(), secrets, actor="ada")
    with database.session() as session:
        row = session.execute(select(Integration)).scalar_one()
        assert DEMO_JIRA.api_token not in str(row.config) + (row.secret_ref or "")
        ref = f"integration/{row.client_id}/{new_id}"
        assert row.secret_ref == ref
    assert secrets.get(ref) == DEMO_JIRA.api_token
    # Editing without a new token keeps the stored one.
    integrations.save(
        database,
        "acme",
        draft(token=None, existing_id=new_id, base_url=URL + "/"),
        secrets,
        actor="ada",
    )
    assert secrets.get(ref) == DEMO_JIRA.api_token
    [view] = integrations.list_integrations(database, "acme", secrets)
    assert view.has_token and view.base_url == URL and view.email == DEMO_JIRA.email
    # One row per change: the integration's (carrying the operation) and its secret's; the
    # edit changed no audited column (the same URL once normalized), so it adds none.
    trail = [
        (a.action, a.operation)
        for a in audit.recent(database, "acme")
        if a.action != "clients.insert"  # the test's client, made by the first save
    ]
    assert sorted(trail, key=str) == [
        ("integrations.insert", "integration.add"),
        ("secrets.insert", None),
    ]


def test_invalid_draft_is_refused(database: Database, secrets: DatabaseSecretStore) -> None:
    with pytest.raises(ValidationFailed) as info:
        integrations.save(database, "acme", draft(base_url="ftp:/x"), secrets, actor="ada")
    assert "base_url" in info.value.errors


def test_connection_test_against_the_simulator(jira_transport: httpx.MockTransport) -> None:
    good = integrations.check_connection(draft(), DEMO_JIRA.api_token, transport=jira_transport)
    assert good.ok, good.message
    bad = integrations.check_connection(draft(), "wrong-token", transport=jira_transport)
    assert not bad.ok and bad.message


def test_github_connection_test_takes_several_stored_tokens() -> None:
    sim = GitHubSimulator(Org(7, "tiny"), tokens=(DEMO_GITHUB_TOKEN, "ghp_second"))
    transport = httpx.MockTransport(sim.handle)
    gh = IntegrationDraft("gh", "github", "https://api.github.com")
    good = integrations.check_connection(
        gh, f"{DEMO_GITHUB_TOKEN}\nghp_second", transport=transport
    )
    assert good.ok and "as pulse-sandbox" in good.message
    bad = integrations.check_connection(gh, "ghp_wrong", transport=transport)
    assert not bad.ok and bad.message
    assert not integrations.check_connection(gh, " \n", transport=transport).ok


def test_saved_integration_test_is_recorded_and_deactivate_is_audited(
    database: Database, secrets: DatabaseSecretStore, jira_transport: httpx.MockTransport
) -> None:
    new_id = integrations.save(database, "acme", draft(), secrets, actor="ada")
    check = integrations.check_saved(database, "acme", new_id, secrets, transport=jira_transport)
    assert check.ok
    integrations.set_active(database, "acme", new_id, False, actor="ada")
    [view] = integrations.list_integrations(database, "acme")
    assert view.last_test_ok is True and not view.active
    [newest, *_] = audit.recent(database, "acme")
    assert (newest.action, newest.operation) == ("integrations.update", "integration.deactivate")
    assert (newest.before, newest.after) == ({"active": True}, {"active": False})


def test_another_clients_integration_id_is_refused(
    database: Database, secrets: DatabaseSecretStore, jira_transport: httpx.MockTransport
) -> None:
    theirs = integrations.save(database, "acme", draft(), secrets, actor="ada")
    with database.session() as session:
        ensure_client(session, "globex")
    check = integrations.check_saved(database, "globex", theirs, secrets, transport=jira_transport)
    assert not check.ok and "no longer exists" in check.message
    integrations.set_active(database, "globex", theirs, False, actor="mallory")
    assert integrations.repositories(database, "globex", theirs) == []
    [view] = integrations.list_integrations(database, "acme")
    assert view.active and view.last_test_at is None
    assert [a.action for a in audit.recent(database, "globex")] == ["clients.insert"]


def test_types_without_a_pipeline_are_not_offered() -> None:
    from pulse_console.pipelines.registry import installed, offered_types

    offered = offered_types()
    assert offered[0] == "jira" and offered[-1] == "github"  # the chain's order
    for kind in ("azure_devops", "aha"):
        assert (kind in offered) == installed(kind)
        assert (kind in integrations.TYPES) == installed(kind)
        if not installed(kind):
            assert "type" in integrations.validate(draft(type=kind))


def test_one_clients_integration_token_never_overwrites_another_clients(
    database: Database, secrets: DatabaseSecretStore
) -> None:
    # Keyed by names, client `a:gh` + integration `x` was the same secret as `a` + `gh:x`
    # (storage takes any name; the slug rule is enforced where names are typed in).
    refs = {}
    for client, name in (("a", "gh:x"), ("a:gh", "x")):
        with database.session() as session:
            client_id = ensure_client(session, client)
        with database.session() as session:
            integration_id = save_integration(
                session, client_id=client_id, name=name, type="github", base_url=URL
            )
            refs[client] = session.get(Integration, integration_id).secret_ref  # type: ignore[union-attr]
        secrets.set(refs[client], f"token-of-{client}")
    assert secrets.get(refs["a"]) == "token-of-a"
    assert secrets.get(refs["a:gh"]) == "token-of-a:gh"
    with database.engine.connect() as conn:
        owners = conn.execute(
            text(
                "SELECT c.name, s.client_id = i.client_id FROM secrets s "
                "JOIN integrations i ON i.secret_ref = s.name JOIN clients c ON c.id = i.client_id"
            )
        ).all()
    assert sorted(owners) == [("a", True), ("a:gh", True)]


@pytest.mark.owner  # plants a row of no client, which row-level security refuses a login
def test_a_secret_row_is_never_rewritten_by_another_client(
    database: Database, secrets: DatabaseSecretStore
) -> None:
    integrations.save(database, "a", draft(token="token-of-a"), secrets, actor="t")
    with database.engine.begin() as conn:
        ref = conn.execute(text("SELECT name FROM secrets")).scalar_one()
        conn.execute(text("UPDATE secrets SET client_id = NULL"))  # a row another client owns
    secrets.set(ref, "intruder")
    with database.engine.begin() as conn:
        conn.execute(
            text("UPDATE secrets SET client_id = (SELECT id FROM clients WHERE name = 'a')")
        )
    assert secrets.get(ref) == "token-of-a"


def test_an_azure_devops_draft_is_tested_with_its_pat() -> None:
    sim = AzureDevOpsSimulator(AdoOrg(7, "tiny", work_items=5, pull_requests=1), "the-pat")
    transport = httpx.MockTransport(sim.handle)
    ado = draft(type="azure_devops", base_url="https://dev.azure.com/sandbox", email=None)
    good = integrations.check_connection(ado, "the-pat", transport=transport)
    assert good.ok and "Fabrikam Fiber" in good.message
    bad = integrations.check_connection(ado, "stale-pat", transport=transport)
    assert not bad.ok and bad.title == "Authentication failed" and "stale-pat" not in bad.message


def test_the_form_stores_azure_devops_project_names_with_spaces() -> None:
    assert "azure_devops" in form_types()
    config = to_config("azure_devops", {"projects": "Fabrikam Fiber, Contoso Web"})
    assert config == {"projects": ["Fabrikam Fiber", "Contoso Web"], "windows": None}
    shown = form_values("azure_devops", config)
    assert shown == {"projects": "Fabrikam Fiber, Contoso Web", "windows": ""}


@pytest.mark.parametrize("kind", ["jira", "github", "azure_devops", "aha"])
def test_every_type_s_windows_from_the_form_is_what_its_sync_reads(kind: str) -> None:
    config = stored({**to_config(kind, {"windows": " 2 "}), "email": "ada@example.com"})
    assert config["windows"] == 2
    assert not field_problems(kind, config)
    ref = IntegrationRef(1, "x", kind, "https://x.example", config)
    assert options_of(kind, ref).windows == 2
    for typed in ("0", "17", "four"):
        problems = field_problems(kind, to_config(kind, {"windows": typed}))
        assert problems == {"windows": "A whole number from 1 to 16 (empty: 4)."}
    assert "windows" not in field_problems(kind, to_config(kind, {"windows": ""}))


def test_jira_s_requests_in_flight_from_the_form_bound_its_gate() -> None:
    values = {"email": "ada@example.com", "max_in_flight": "12"}
    config = stored({**to_config("jira", values), "email": "ada@example.com"})
    ref = IntegrationRef(1, "j", "jira", "https://x.example", config)
    assert JiraSyncOptions.from_integration(ref).max_in_flight == 12
    refused = draft(config=to_config("jira", {**values, "max_in_flight": "101"}))
    assert integrations.validate(refused) == {
        "max_in_flight": "A whole number from 1 to 100 (empty: 64)."
    }


def test_jira_s_window_threads_flag_from_the_form_is_what_its_sync_reads() -> None:
    """Ticked, the form stores what `integration add jira --window-threads` does, and the
    sync's options keep the chains in threads; unticked, window processes (the default)."""
    values: dict[str, FormValue] = {"email": "ada@example.com"}
    for ticked, processes in ((True, False), (False, True)):
        config = stored({**to_config("jira", {**values, "window_processes": ticked})})
        assert config.get("window_processes") is (False if ticked else None)
        assert form_values("jira", config)["window_processes"] is ticked
        ref = IntegrationRef(1, "j", "jira", "https://x.example", config)
        assert JiraSyncOptions.from_integration(ref).window_processes is processes
