"""JSON-lines log formatting (worker stdout and job log files): one object per line."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

from connectors.secret import redact

_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


def structured_extra(record: logging.LogRecord) -> dict[str, Any]:
    """The caller's `extra=` fields of a record, made JSON-safe."""
    extra: dict[str, Any] = {}
    for key, value in vars(record).items():
        if key in _STANDARD or key.startswith("_") or key in {"job", "run_id", "client"}:
            continue
        if not isinstance(value, (int, float, bool, type(None))):
            value = redact(str(value))
        extra[key] = value
    return extra


class JsonLinesFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        for key in ("client", "job", "run_id"):
            value = getattr(record, key, None)
            if value is not None:
                data[key] = value
        data.update(structured_extra(record))
        if record.exc_info:
            data["exc"] = redact(self.formatException(record.exc_info))
        return json.dumps(data, default=str)


def configure_json_logging(level: str) -> None:
    """JSON lines on stdout for a headless process (the worker)."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonLinesFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("procrastinate", "sqlalchemy", "httpx", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
