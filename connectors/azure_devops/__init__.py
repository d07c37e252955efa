"""Azure DevOps (Services and Server) client: work items, git, builds, releases, environments."""

from connectors.azure_devops.client import (
    API_VERSION,
    BATCH_LIMIT,
    WIQL_LIMIT,
    AzureDevOpsClient,
    Page,
    ThrottleState,
    WiqlTooManyResults,
    ado_gate,
)
from connectors.azure_devops.urls import is_cloud, normalize_base_url, release_base_url
from connectors.validation import Rejected

__all__ = [
    "API_VERSION",
    "BATCH_LIMIT",
    "WIQL_LIMIT",
    "AzureDevOpsClient",
    "Page",
    "Rejected",
    "ThrottleState",
    "WiqlTooManyResults",
    "ado_gate",
    "is_cloud",
    "normalize_base_url",
    "release_base_url",
]
