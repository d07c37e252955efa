"""The product's roles and the one rule between them: viewer < user < admin.

Kept free of imports so the CLI's parser can offer the names without loading the database
code. An API token carries one of these roles (`services.api_tokens`); the API asks
`allows` whether it covers what a route needs.
"""

from __future__ import annotations

from typing import Literal

Role = Literal["viewer", "user", "admin"]
ROLES: tuple[Role, ...] = ("viewer", "user", "admin")  # each includes the ones before it


def allows(role: str, needed: Role) -> bool:
    """Does `role` carry `needed`? (viewer < user < admin; an unknown role carries none)"""
    return role in ROLES and ROLES.index(role) >= ROLES.index(needed)
