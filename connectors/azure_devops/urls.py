"""Azure DevOps base URLs: Services (cloud) and Server (on premises), and the release host.

- Services: ``https://dev.azure.com/{organization}`` (and the older
  ``https://{organization}.visualstudio.com``).
- Server: ``https://{host}/tfs/{collection}`` or any collection URL the admin chose.
- Classic releases (vsrm) live on their own host for Services:
  ``https://vsrm.dev.azure.com/{organization}``, or ``{organization}.vsrm.visualstudio.com``;
  Azure DevOps Server serves them on the collection URL itself.
  https://learn.microsoft.com/rest/api/azure/devops/release/deployments/list?view=azure-devops-rest-7.1
"""

from __future__ import annotations

import httpx

CLOUD_HOST = "dev.azure.com"
LEGACY_SUFFIX = ".visualstudio.com"


def normalize_base_url(base_url: str) -> str:
    """The collection/organization URL without a trailing slash; rejects what is not a URL."""
    url = httpx.URL(base_url.strip())
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError(
            f"{base_url!r} is not an Azure DevOps URL; use https://dev.azure.com/ORG or "
            "https://HOST/tfs/COLLECTION"
        )
    return str(url.copy_with(query=None, fragment=None)).rstrip("/")


def is_cloud(base_url: str) -> bool:
    host = httpx.URL(base_url).host.lower()
    return host == CLOUD_HOST or host.endswith(LEGACY_SUFFIX)


def release_base_url(base_url: str) -> str:
    """Where the release (vsrm) API of this organization lives."""
    url = httpx.URL(normalize_base_url(base_url))
    host = url.host.lower()
    if host == CLOUD_HOST:
        return str(url.copy_with(host=f"vsrm.{CLOUD_HOST}")).rstrip("/")
    if host.endswith(LEGACY_SUFFIX) and ".vsrm." not in host:
        org = host[: -len(LEGACY_SUFFIX)]
        return str(url.copy_with(host=f"{org}.vsrm{LEGACY_SUFFIX}")).rstrip("/")
    return str(url).rstrip("/")
