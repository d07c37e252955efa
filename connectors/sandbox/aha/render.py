"""Aha! API v1 JSON shapes of the generated account's records.

Shapes follow the resource pages of https://www.aha.io/api/resources and their example
responses: ids are decimal strings, times ISO 8601 UTC with milliseconds
(``2019-01-01T00:00:00.000Z``), dates ``YYYY-MM-DD``, related records in brief
(``{"id", "reference_num", "name", ...}``), integration fields as
``{"name", "value", "service_name", "integration_id"}``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from connectors.sandbox.aha.model import AhaOrg, Goal, Product, Record, Release, Stay

SLIM_FIELDS = ("id", "reference_num", "name", "created_at", "url", "resource")
"""What a list item carries without ``fields=`` (API_NOTES §4)."""

JIRA_INTEGRATION_ID = 5_000_001
JIRA_SITE = "https://sandbox.atlassian.net"


def timestamp(ms: int) -> str:
    d = dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC)
    return f"{d:%Y-%m-%dT%H:%M:%S}.{ms % 1000:03d}Z"


def day(ms: int) -> str:
    return f"{dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC):%Y-%m-%d}"


def select(full: dict[str, Any], fields: Iterable[str] | None) -> dict[str, Any]:
    """The record as a list item: slim by default, else exactly the asked-for fields."""
    wanted = SLIM_FIELDS if fields is None else tuple(fields)
    return {name: full[name] for name in ("id", *wanted) if name in full}


class Renderer:
    def __init__(self, aha: AhaOrg, base: str, *, history: bool = True) -> None:
        self.aha = aha
        self.base = base  # scheme://host[/prefix] of the account
        self.history = history  # False: records come without workflow_status_times

    def _links(self, kind: str, ref: str) -> dict[str, str]:
        return {"url": f"{self.base}/{kind}/{ref}", "resource": f"{self.base}/api/v1/{kind}/{ref}"}

    def product(self, p: Product) -> dict[str, Any]:
        return {
            "id": p.id,
            "reference_prefix": p.prefix,
            "name": p.name,
            "product_line": False,
            "created_at": timestamp(p.created_ms),
            "updated_at": timestamp(p.created_ms),
            **self._links("products", p.prefix),
        }

    def _project(self, p: int) -> dict[str, Any]:
        product = self.aha.products[p]
        return {"id": product.id, "reference_prefix": product.prefix, "name": product.name}

    def user(self, index: int | None) -> dict[str, Any] | None:
        if index is None:
            return None
        uid, name, email = self.aha.user_name(index)
        return {"id": uid, "name": name, "email": email}

    def _brief(self, ref: str | None, kind: str) -> dict[str, Any] | None:
        if ref is None:
            return None
        target: Record | Release | Goal | None
        if kind == "releases":
            target = self.aha.releases.get(ref)
        elif kind in ("goals", "initiatives"):
            target = self.aha.goals.get(ref)
        else:
            target = self.aha.records.get(ref)
        if target is None:
            return None
        return {
            "id": target.id,
            "reference_num": ref,
            "name": target.name,
            **self._links(kind, ref),
        }

    @staticmethod
    def _status(stay: Stay, position: int) -> dict[str, Any]:
        return {
            "id": str(abs(hash_name(stay.status))),
            "name": stay.status,
            "position": position,
            "complete": stay.complete,
            "color": "#dce7c6" if stay.complete else "#e7e7e7",
        }

    def record(self, r: Record) -> dict[str, Any]:
        kind = {"feature": "features", "requirement": "requirements", "epic": "epics"}.get(
            r.kind, "ideas"
        )
        body: dict[str, Any] = {
            "id": r.id,
            "reference_num": r.ref,
            "name": r.name,
            "created_at": timestamp(r.created_ms),
            "updated_at": timestamp(r.updated_ms),
            "product_id": self.aha.products[r.product].id,
            "project": self._project(r.product),
            "workflow_status": self._status(r.status, len(r.history)),
            "workflow_status_times": [
                {
                    "status_id": str(abs(hash_name(s.status))),
                    "status_name": s.status,
                    "started_at": timestamp(s.started_ms),
                    "ended_at": None if s.ended_ms is None else timestamp(s.ended_ms),
                }
                for s in r.history
            ],
            "assigned_to_user": self.user(r.assignee),
            "created_by_user": self.user(r.creator),
            "custom_fields": [
                {
                    "key": name.lower().replace(" ", "_"),
                    "name": name,
                    "value": value,
                    "type": "string",
                }
                for name, value in r.custom
            ],
            "integration_fields": self._integration_fields(r),
            "tags": [],
            **self._links(kind, r.ref),
        }
        if not self.history:
            del body["workflow_status_times"]
        if r.kind in ("feature", "epic"):
            body["release"] = self._brief(r.release, "releases")
            body["initiative"] = self._brief(r.initiative, "initiatives")
            body["goals"] = [b for b in (self._brief(g, "goals") for g in r.goals) if b]
            body["progress"] = 100 if r.status.complete else 10 * len(r.history)
        if r.kind == "feature":
            body["epic"] = self._brief(r.epic, "epics")
            body["requirements"] = [self.record(q) for q in self.aha.requirements_of(r)]
            body["start_date"] = day(r.created_ms)
            body["due_date"] = None
        if r.kind == "requirement" and r.parent is not None:
            parent = self.aha.records[r.parent]
            body["feature"] = {"id": parent.id, "reference_num": parent.ref, "name": parent.name}
        if r.kind == "idea":
            body["votes"] = r.votes
            body["endorsements_count"] = r.votes
            body["feature"] = self._brief(r.feature, "features")
        return body

    @staticmethod
    def _integration_fields(r: Record) -> list[dict[str, Any]]:
        if r.jira_key is None:
            return []
        made = timestamp(r.created_ms + 60_000)
        return [
            {
                "id": str(6_100_000_000_000_000_000 + int(r.id) % 10**17 * 10 + k),
                "name": name,
                "value": value,
                "integration_id": JIRA_INTEGRATION_ID,
                "service_name": "jira",
                "created_at": made,
            }
            for k, (name, value) in enumerate(
                (("key", r.jira_key), ("url", f"{JIRA_SITE}/browse/{r.jira_key}"))
            )
        ]

    def release(self, x: Release) -> dict[str, Any]:
        pfx = self.aha.products[x.product].prefix
        return {
            "id": x.id,
            "reference_num": x.ref,
            "name": x.name,
            "product_id": self.aha.products[x.product].id,
            "project": self._project(x.product),
            "start_date": day(x.start_ms),
            "release_date": day(x.release_ms),
            "released_on": day(x.release_ms) if x.released else None,
            "released": x.released,
            "parking_lot": False,
            "workflow_status": {
                "id": str(abs(hash_name(x.status))),
                "name": x.status,
                "position": 1,
                "complete": x.released,
            },
            "created_at": timestamp(x.created_ms),
            "updated_at": timestamp(x.updated_ms),
            "goals": [b for b in (self._brief(f"{pfx}-G-{g}", "goals") for g in x.goals) if b],
            **self._links("releases", x.ref),
        }

    def goal(self, g: Goal) -> dict[str, Any]:
        kind = "goals" if g.kind == "goal" else "initiatives"
        body: dict[str, Any] = {
            "id": g.id,
            "reference_num": g.ref,
            "name": g.name,
            "status": g.status,
            "progress": g.progress,
            "start_date": day(g.start_ms),
            "end_date": day(g.end_ms),
            "created_at": timestamp(g.created_ms),
            "updated_at": timestamp(g.updated_ms),
            "project": self._project(g.product),
            **self._links(kind, g.ref),
        }
        if g.kind == "initiative":
            body["product_id"] = self.aha.products[g.product].id
            body["goals"] = [b for b in (self._brief(x, "goals") for x in g.goals) if b]
        return body


def hash_name(name: str) -> int:
    """A stable id for a status name (Python's ``hash`` is salted per process)."""
    value = 7
    for ch in name:
        value = (value * 131 + ord(ch)) % 10**12
    return 6_200_000_000_000 + value
