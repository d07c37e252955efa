"""GitHub simulator (GraphQL + REST) over the generated organisation; see ``app``."""

from connectors.sandbox.github.app import GitHubSimulator

__all__ = ["GitHubSimulator"]
