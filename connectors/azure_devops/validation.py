"""Validating Azure DevOps payloads: the same rules as Jira's (see ``connectors.jira.validation``).

Whole responses validate strictly (``BadPayload``); lists validate item by item so one
malformed work item or pull request is set aside, with its raw JSON and the error, for
quarantine.
"""

from connectors.jira.validation import Rejected, validate_each, validate_whole

__all__ = ["Rejected", "validate_each", "validate_whole"]
