"""Users as Jira returns them (Cloud ``accountId``; Data Center ``name``/``key``)."""

from __future__ import annotations

from connectors.jira.models.base import JiraModel


class User(JiraModel):
    """https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-users/

    ``accountId`` is optional because Data Center identifies users by ``name``/``key`` and
    real captures show ``"accountId": ""`` for anonymised authors.
    """

    account_id: str | None = None
    display_name: str | None = None
    email_address: str | None = None
    active: bool | None = None
    account_type: str | None = None
    time_zone: str | None = None
    locale: str | None = None
    name: str | None = None
    key: str | None = None

    @property
    def identity(self) -> str | None:
        """The most stable identifier available (account id, else DC user key/name)."""
        return self.account_id or self.key or self.name or None
