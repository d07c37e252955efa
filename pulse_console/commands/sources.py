"""What the `integration` and `sync` commands need to know per integration type.

Each type names its `integration add <type>` options, turns them into the stored base URL and
config, builds its pipeline, and words the item lines of the sync summary. Everything else
(reading the token, testing it, saving, the progress line, exit codes) is one code path in
`pulse_console.commands.sync`.

The pipelines and their error classes are imported only when a command uses them, so
building the parser (`--help`, `--version`) stays cheap.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pulse_console.pipelines.base import Pipeline


class UsageProblem(ValueError):
    """The options do not make a usable integration; the message says what to change."""


@dataclass(frozen=True)
class SourceType:
    name: str
    help: str
    add_options: Callable[[argparse.ArgumentParser], None]
    # parsed options -> (base URL, config for `integrations.config`)
    settings: Callable[[argparse.Namespace], tuple[str, dict[str, Any]]]
    pipeline: Callable[[bool], Pipeline]  # full -> a pipeline for one run
    item_lines: Callable[[dict[str, Any]], list[str]]  # the run's stats -> summary lines
    errors: Callable[[], tuple[type[Exception], ...]]  # the pipeline's expected failures
    several_tokens: bool = False  # stdin may hold several tokens, one a line, used in turn


# -- Jira ------------------------------------------------------------------------------------


def _jira_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--base-url", required=True, help="https://<site>.atlassian.net")
    parser.add_argument("--email", help="account e-mail (Jira Cloud)")
    parser.add_argument(
        "--data-center", action="store_true", help="Jira Data Center (personal access token)"
    )
    parser.add_argument(
        "--project", action="append", default=[], help="project key to sync (repeat; default all)"
    )
    parser.add_argument(
        "--max-in-flight",
        type=int,
        metavar="N",
        help="requests the account sends at once, 1-100 (default 64; halved on each 429)",
    )
    parser.add_argument(
        "--window-threads",
        action="store_true",
        help="run a full sync's windows in the sync's threads, not in window processes",
    )


def _jira_settings(args: argparse.Namespace) -> tuple[str, dict[str, Any]]:
    if not args.data_center and not args.email:
        raise UsageProblem("Jira Cloud needs --email (the account the API token belongs to)")
    config: dict[str, Any] = {"deployment": "data_center" if args.data_center else "cloud"}
    if args.email:
        config["email"] = args.email
    if args.project:
        config["projects"] = [p.upper() for p in args.project]
    if args.max_in_flight is not None:
        config["max_in_flight"] = args.max_in_flight  # bounds: commands/sync.py, as --windows
    if args.window_threads:
        config["window_processes"] = False
    return _base_url(args), config


def _base_url(args: argparse.Namespace, default: str | None = None) -> str:
    from pulse_console.inputs import BadInput, check_base_url

    try:
        return check_base_url(args.base_url or default or "")
    except BadInput as exc:
        raise UsageProblem(str(exc)) from None


def _jira_lines(stats: dict[str, Any]) -> list[str]:
    lines = [
        f"  items: {stats['issues']} seen, {stats['inserted']} new, {stats['updated']} updated, "
        f"{stats['deactivated']} deactivated, {stats['quarantined']} quarantined",
        f"  transitions written: {stats['transitions']}   links written: {stats['links']}",
    ]
    quality = stats.get("quality")
    if quality:
        lines.append(
            "  data quality: "
            f"{quality['issues_with_unmapped_status']} items with a status no flow step maps, "
            f"{quality['transitions_to_unknown_status']} transitions to unknown statuses, "
            f"{quality['linked_repositories_not_synced']} linked repositories not synced"
        )
    return lines


# -- GitHub ----------------------------------------------------------------------------------


def _github_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--base-url", help="API base URL (default: GitHub.com's API)")
    parser.add_argument(
        "--enterprise", action="store_true", help="GitHub Enterprise Server (/api/graphql)"
    )
    parser.add_argument("--org", action="append", default=[], help="organisation (repeat)")
    parser.add_argument("--repo", action="append", default=[], help="owner/name (repeat)")
    parser.add_argument(
        "--pattern", action="append", default=[], help="repository name glob within --org"
    )
    parser.add_argument("--search", help="a GitHub repository search query")
    parser.add_argument(
        "--project-key", action="append", default=[], help="Jira project key to link (repeat)"
    )
    parser.add_argument(
        "--deployments",
        choices=["auto", "graphql", "actions", "off"],
        default="auto",
        help="where deployments come from (auto: GraphQL, else workflow runs)",
    )


def _github_settings(args: argparse.Namespace) -> tuple[str, dict[str, Any]]:
    if args.pattern and not args.org:
        raise UsageProblem("--pattern picks repositories within an --org; name one")
    config: dict[str, Any] = {
        "orgs": args.org,
        "repos": args.repo,
        "patterns": args.pattern,
        "search": args.search,
        "project_keys": [k.upper() for k in args.project_key],
        "deployments": args.deployments,
        "enterprise": args.enterprise,
    }
    from connectors.github.client import GITHUB_API

    return _base_url(args, GITHUB_API), config


def _github_lines(stats: dict[str, Any]) -> list[str]:
    return [
        f"  repositories: {stats['repositories']}   pull requests: {stats['pull_requests']}   "
        f"commits: {stats['commits']}   reviews: {stats['reviews']}   "
        f"comments: {stats['comments']}   deployments: {stats['deployments']}",
        f"  links written: {stats['links']}   quarantined: {stats['quarantined']}   "
        f"unresolved keys: {stats['unresolved_keys']}",
        f"  GraphQL points: {stats['points_used']} spent, {stats['points_remaining']} left",
    ]


# -- Azure DevOps ----------------------------------------------------------------------------


def _ado_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--base-url",
        required=True,
        help="https://dev.azure.com/ORG (Services) or https://HOST/tfs/COLLECTION (Server)",
    )
    parser.add_argument(
        "--project", action="append", default=[], help="project name to sync (repeat; default all)"
    )


def _ado_settings(args: argparse.Namespace) -> tuple[str, dict[str, Any]]:
    return _base_url(args), {"projects": list(args.project)} if args.project else {}


def _ado_lines(stats: dict[str, Any]) -> list[str]:
    return [
        f"  projects: {stats['projects']}   work items: {stats['work_items']} "
        f"({stats['deactivated']} deactivated)   transitions: {stats['transitions']} "
        f"from {stats['revisions']} revisions",
        f"  repositories: {stats['repositories']}   pull requests: {stats['pull_requests']}   "
        f"commits: {stats['commits']}   reviews: {stats['reviews']}   "
        f"comments: {stats['comments']}   links: {stats['links']}",
        f"  builds: {stats['ci_runs']}   deployments: {stats['deployments']}   "
        f"quarantined: {stats['quarantined']}   throttled answers: "
        f"{stats['throttled_responses']} ({stats['throttle_delay_seconds']} s delayed)",
    ]


def _ado_pipeline(full: bool) -> Pipeline:
    from pulse_console.pipelines.azure_devops.sync import AzureDevOpsSync

    return AzureDevOpsSync(full=full)


def _ado_errors() -> tuple[type[Exception], ...]:
    from pulse_console.pipelines.azure_devops.extract import AzureDevOpsTokenMissing
    from pulse_console.pipelines.azure_devops.options import AzureDevOpsConfigError

    return (AzureDevOpsConfigError, AzureDevOpsTokenMissing)


def _jira_pipeline(full: bool) -> Pipeline:
    from pulse_console.pipelines.jira.sync import JiraSync

    return JiraSync(full=full)


def _jira_errors() -> tuple[type[Exception], ...]:
    from pulse_console.pipelines.jira.extract import JiraSyncError
    from pulse_console.pipelines.jira.options import JiraConfigError

    return (JiraSyncError, JiraConfigError)


def _github_pipeline(full: bool) -> Pipeline:
    from pulse_console.pipelines.github.sync import GitHubSync

    return GitHubSync(full=full)


def _github_errors() -> tuple[type[Exception], ...]:
    from pulse_console.pipelines.github.sync import GitHubConfigError

    return (GitHubConfigError,)


def _aha_pipeline(full: bool) -> Pipeline:
    from pulse_console.pipelines.aha.sync import AhaSync

    return AhaSync(full=full)


def _aha_errors() -> tuple[type[Exception], ...]:
    from pulse_console.pipelines.aha.extract import AhaSyncError
    from pulse_console.pipelines.aha.options import AhaConfigError

    return (AhaSyncError, AhaConfigError)


# -- Aha! ------------------------------------------------------------------------------------


def _aha_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--base-url", required=True, help="https://<company>.aha.io")
    parser.add_argument(
        "--product",
        action="append",
        default=[],
        help="product reference prefix or id to sync (repeat; default every product)",
    )


def _aha_settings(args: argparse.Namespace) -> tuple[str, dict[str, Any]]:
    config: dict[str, Any] = {}
    if args.product:
        config["products"] = list(args.product)
    return _base_url(args), config


def _aha_lines(stats: dict[str, Any]) -> list[str]:
    return [
        f"  records: {stats['records']} listed (+{stats['requirements']} requirements), "
        f"{stats['inserted']} new, {stats['updated']} "
        f"updated, {stats['deactivated']} deactivated, {stats['quarantined']} quarantined",
        f"  status changes: {stats['transitions']}   links to other sources: {stats['links']}   "
        f"release links: {stats['releases']}   goal links: {stats['goals']}",
        f"  pacing: waited {stats['pacing_seconds']} s to stay under 20/s and 300/min; "
        f"429 answers: {stats['responses_429']}",
    ]


SOURCES: dict[str, SourceType] = {
    "jira": SourceType(
        "jira",
        "Jira Cloud or Data Center",
        _jira_options,
        _jira_settings,
        _jira_pipeline,
        _jira_lines,
        _jira_errors,
    ),
    "github": SourceType(
        "github",
        "GitHub or GitHub Enterprise Server",
        _github_options,
        _github_settings,
        _github_pipeline,
        _github_lines,
        _github_errors,
        several_tokens=True,
    ),
    "azure_devops": SourceType(
        "azure_devops",
        "Azure DevOps Services or Server (personal access token)",
        _ado_options,
        _ado_settings,
        _ado_pipeline,
        _ado_lines,
        _ado_errors,
    ),
    "aha": SourceType(
        "aha",
        "Aha! (API key)",
        _aha_options,
        _aha_settings,
        _aha_pipeline,
        _aha_lines,
        _aha_errors,
    ),
}


def offered_sources() -> list[SourceType]:
    """The types `integration add` offers: those the pipeline registry has a pipeline for."""
    from pulse_console.pipelines.registry import offered_types

    return [SOURCES[kind] for kind in offered_types() if kind in SOURCES]
