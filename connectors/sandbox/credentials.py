"""The demo credentials every sandbox accepts (nothing secret: the sandbox is local)."""

from __future__ import annotations

from connectors.sandbox.jira.app import JiraCredentials

DEMO_JIRA = JiraCredentials(email="demo@sandbox.pulse.local", api_token="sandbox-jira-api-token")
DEMO_GITHUB_TOKEN = "ghp_sandboxDemoToken0000000000000000000000"
DEMO_ADO_PAT = "sandboxAzureDevOpsDemoPat0000000000000000000000000"
DEMO_ADO_ORG = "sandbox"  # the organisation segment: {base}/azure_devops/sandbox
