"""GitHub simulator (GraphQL + REST) over the generated organisation.

In-process::

    sim = GitHubSimulator(org)                       # or GitHubSimulator(org, injector)
    httpx.Client(transport=httpx.MockTransport(sim.handle), base_url="https://api.github.com",
                 headers={"Authorization": f"bearer {DEMO_GITHUB_TOKEN}"})

On the socket server: ``SandboxServer({"jira": jira.handle, "github": sim.handle})``; the
GitHub base URL is then ``server.base_urls["github"]`` and plays ``https://api.github.com``
(``{base}/graphql``, ``{base}/repos/...``); ``{base}/api/graphql`` and ``{base}/api/v3/...``
serve GitHub Enterprise Server style clients. Benchmark: ``python -m
connectors.sandbox.github.bench``. The schema subset is regenerated with ``python -m
connectors.sandbox.github.extract_schema FULL_SCHEMA.graphql``.
"""

from connectors.sandbox.github.app import GitHubSimulator

__all__ = ["GitHubSimulator"]
