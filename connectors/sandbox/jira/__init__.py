"""Jira Cloud REST v3 simulator."""

from connectors.sandbox.jira.app import JiraCredentials, JiraSimulator

__all__ = ["JiraCredentials", "JiraSimulator"]
