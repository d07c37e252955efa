"""What the `integration` and `sync` commands need to know per integration type.

Each type names its `integration add <type>` options, turns them into the stored base URL and
config, builds its pipeline, and words the item lines of the sync summary. Everything else
(reading the token, testing it, saving, the progress line, exit codes) is one code path in
`pulse_console.commands.sync`.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from connectors.github import GITHUB_API
from pulse_console.inputs import BadInput, check_base_url
from pulse_console.pipelines.aha.options import AhaConfigError
from pulse_console.pipelines.aha.sync import AhaSync, AhaSyncError
from pulse_console.pipelines.base import Pipeline
from pulse_console.pipelines.github.sync import GitHubConfigError, GitHubSync
from pulse_console.pipelines.jira.extract import JiraSyncError
from pulse_console.pipelines.jira.options import JiraConfigError
from pulse_console.pipelines.jira.sync import JiraSync


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
    errors: tuple[type[Exception], ...]  # what the pipeline raises for an expected failure
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


def _jira_settings(args: argparse.Namespace) -> tuple[str, dict[str, Any]]:
    if not args.data_center and not args.email:
        raise UsageProblem("Jira Cloud needs --email (the account the API token belongs to)")
    config: dict[str, Any] = {"deployment": "data_center" if args.data_center else "cloud"}
    if args.email:
        config["email"] = args.email
    if args.project:
        config["projects"] = [p.upper() for p in args.project]
    return _base_url(args), config


def _base_url(args: argparse.Namespace) -> str:
    try:
        return check_base_url(args.base_url)
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
    parser.add_argument("--base-url", default=GITHUB_API, help=f"API base URL ({GITHUB_API})")
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
    return _base_url(args), config


def _github_lines(stats: dict[str, Any]) -> list[str]:
    return [
        f"  repositories: {stats['repositories']}   pull requests: {stats['pull_requests']}   "
        f"commits: {stats['commits']}   reviews: {stats['reviews']}   "
        f"comments: {stats['comments']}   deployments: {stats['deployments']}",
        f"  links written: {stats['links']}   quarantined: {stats['quarantined']}   "
        f"unresolved keys: {stats['unresolved_keys']}",
        f"  GraphQL points: {stats['points_used']} spent, {stats['points_remaining']} left",
    ]


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
        lambda full: JiraSync(full=full),
        _jira_lines,
        (JiraSyncError, JiraConfigError),
    ),
    "github": SourceType(
        "github",
        "GitHub or GitHub Enterprise Server",
        _github_options,
        _github_settings,
        lambda full: GitHubSync(full=full),
        _github_lines,
        (GitHubConfigError,),
        several_tokens=True,
    ),
    "aha": SourceType(
        "aha",
        "Aha! (API key)",
        _aha_options,
        _aha_settings,
        lambda full: AhaSync(full=full),
        _aha_lines,
        (AhaSyncError, AhaConfigError),
    ),
}
