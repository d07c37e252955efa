"""Cut the simulator's schema out of GitHub's public GraphQL schema.

``python -m connectors.sandbox.github.extract_schema FULL_SCHEMA.graphql`` reads GitHub's
published schema (octokit/graphql-schema ``schema.graphql``; https://docs.github.com/graphql
/overview/public-schema) and writes ``schema.graphql`` beside this file: the types in
``KEEP`` with only the listed fields, every field copied verbatim (arguments, defaults, types,
descriptions, ``@deprecated``), plus every enum, input object and scalar those fields reach.
Interfaces and union members outside the subset are dropped, as is GitHub's
``@requiredCapabilities`` directive. A query that uses a field outside the subset therefore
fails validation exactly as a query for a field GitHub does not have would.
"""

from __future__ import annotations

import sys
from pathlib import Path

from graphql import (
    ConstDirectiveNode,
    DocumentNode,
    EnumTypeDefinitionNode,
    FieldDefinitionNode,
    InputObjectTypeDefinitionNode,
    InputValueDefinitionNode,
    InterfaceTypeDefinitionNode,
    ListTypeNode,
    NamedTypeNode,
    NonNullTypeNode,
    ObjectTypeDefinitionNode,
    ScalarTypeDefinitionNode,
    TypeDefinitionNode,
    TypeNode,
    UnionTypeDefinitionNode,
    parse,
    print_ast,
)

OUTPUT = Path(__file__).with_name("schema.graphql")
SOURCE = "octokit/graphql-schema@82ff2d4780080e6929ebb95608cefa22dfa05ac7 schema.graphql"
_ALL = ("*",)
_CONNECTION = ("edges", "nodes", "pageInfo", "totalCount")
_EDGE = ("cursor", "node")


def _f(names: str) -> tuple[str, ...]:
    return tuple(names.split())


KEEP: dict[str, tuple[str, ...]] = {
    "Query": _f("id node nodes organization rateLimit repository search user viewer"),
    "Node": _f("id"),
    "Actor": _f("avatarUrl login resourcePath url"),
    "UniformResourceLocatable": _f("resourcePath url"),
    "RepositoryOwner": _ALL,
    "PageInfo": _ALL,
    "RateLimit": _ALL,
    "User": _f(
        "avatarUrl createdAt databaseId email id login name repositories repository "
        "resourcePath updatedAt url"
    ),
    "Bot": _ALL,
    "Organization": _f(
        "avatarUrl createdAt databaseId description id login name repositories repository "
        "resourcePath updatedAt url"
    ),
    "Repository": _f(
        "createdAt databaseId defaultBranchRef deployments description id isArchived isFork "
        "isPrivate name nameWithOwner owner pullRequest pullRequests pushedAt resourcePath "
        "updatedAt url visibility"
    ),
    "RepositoryConnection": _f("edges nodes pageInfo totalCount totalDiskUsage"),
    "RepositoryEdge": _EDGE,
    "Ref": _f("id name prefix repository"),
    "PullRequest": _f(
        "additions author authorAssociation baseRefName baseRefOid baseRepository body "
        "changedFiles closed closedAt comments commits createdAt databaseId deletions files "
        "fullDatabaseId headRefName headRefOid headRepository id isCrossRepository isDraft "
        "labels lastEditedAt locked mergeCommit merged mergedAt mergedBy number permalink "
        "publishedAt repository resourcePath reviewDecision reviewThreads reviews state title "
        "totalCommentsCount updatedAt url"
    ),
    "PullRequestConnection": _CONNECTION,
    "PullRequestEdge": _EDGE,
    "PullRequestCommit": _f("commit id pullRequest resourcePath url"),
    "PullRequestCommitConnection": _CONNECTION,
    "PullRequestCommitEdge": _EDGE,
    "Commit": _f(
        "abbreviatedOid additions author authoredDate changedFilesIfAvailable committedDate "
        "committer deletions id message messageBody messageHeadline oid resourcePath url"
    ),
    "GitActor": _ALL,
    "PullRequestReview": _f(
        "author authorAssociation body createdAt databaseId fullDatabaseId id publishedAt "
        "pullRequest state submittedAt updatedAt url"
    ),
    "PullRequestReviewConnection": _CONNECTION,
    "PullRequestReviewEdge": _EDGE,
    "IssueComment": _f(
        "author authorAssociation body createdAt databaseId fullDatabaseId id publishedAt "
        "pullRequest updatedAt url"
    ),
    "IssueCommentConnection": _CONNECTION,
    "IssueCommentEdge": _EDGE,
    "PullRequestChangedFile": _ALL,
    "PullRequestChangedFileConnection": _CONNECTION,
    "PullRequestChangedFileEdge": _EDGE,
    "PullRequestReviewThread": _f("comments id isOutdated isResolved line path pullRequest"),
    "PullRequestReviewThreadConnection": _CONNECTION,
    "PullRequestReviewThreadEdge": _EDGE,
    "PullRequestReviewComment": _f(
        "author authorAssociation body createdAt databaseId fullDatabaseId id path "
        "publishedAt pullRequest state updatedAt url"
    ),
    "PullRequestReviewCommentConnection": _CONNECTION,
    "PullRequestReviewCommentEdge": _EDGE,
    "Label": _f("color id name"),
    "LabelConnection": _CONNECTION,
    "LabelEdge": _EDGE,
    "Deployment": _f(
        "commit commitOid createdAt creator databaseId description environment id "
        "latestStatus originalEnvironment payload ref repository state statuses task "
        "updatedAt"
    ),
    "DeploymentConnection": _CONNECTION,
    "DeploymentEdge": _EDGE,
    "DeploymentStatus": _ALL,
    "DeploymentStatusConnection": _CONNECTION,
    "DeploymentStatusEdge": _EDGE,
    "SearchResultItemConnection": _f(
        "codeCount discussionCount edges issueCount nodes pageInfo repositoryCount userCount "
        "wikiCount"
    ),
    "SearchResultItemEdge": _EDGE,
    "SearchResultItem": _ALL,
}
_BUILTIN_SCALARS = {"String", "Int", "Float", "Boolean", "ID"}


def _named(t: TypeNode) -> str:
    while isinstance(t, NonNullTypeNode | ListTypeNode):
        t = t.type
    assert isinstance(t, NamedTypeNode)
    return t.name.value


def _directives(
    nodes: tuple[ConstDirectiveNode, ...] | None,
) -> tuple[ConstDirectiveNode, ...]:
    return tuple(d for d in nodes or () if d.name.value == "deprecated")


def _strip_arg(arg: InputValueDefinitionNode) -> InputValueDefinitionNode:
    return InputValueDefinitionNode(
        description=arg.description,
        name=arg.name,
        type=arg.type,
        default_value=arg.default_value,
        directives=_directives(arg.directives),
    )


def extract(full: DocumentNode) -> str:
    defs: dict[str, TypeDefinitionNode] = {
        d.name.value: d for d in full.definitions if isinstance(d, TypeDefinitionNode)
    }
    out: dict[str, TypeDefinitionNode] = {}
    pending: list[str] = []

    def need(name: str) -> None:
        if name in _BUILTIN_SCALARS or name in out or name in pending:
            return
        node = defs[name]
        composite = ObjectTypeDefinitionNode | InterfaceTypeDefinitionNode | UnionTypeDefinitionNode
        if isinstance(node, composite) and name not in KEEP:
            raise SystemExit(f"{name} is reached by a kept field but is not in KEEP")
        pending.append(name)

    for name in KEEP:
        need(name)
    while pending:
        name = pending.pop()
        node = defs[name]
        if isinstance(node, ObjectTypeDefinitionNode | InterfaceTypeDefinitionNode):
            wanted = KEEP[name]
            fields: list[FieldDefinitionNode] = []
            for f in node.fields or ():
                if wanted != _ALL and f.name.value not in wanted:
                    continue
                args = tuple(_strip_arg(a) for a in f.arguments or ())
                for a in args:
                    need(_named(a.type))
                need(_named(f.type))
                fields.append(
                    FieldDefinitionNode(
                        description=f.description,
                        name=f.name,
                        arguments=args,
                        type=f.type,
                        directives=_directives(f.directives),
                    )
                )
            missing = set(wanted) - {f.name.value for f in fields} - {"*"}
            if missing:
                raise SystemExit(f"{name} has no fields {sorted(missing)}")
            interfaces = tuple(i for i in node.interfaces or () if i.name.value in KEEP)
            cls = type(node)
            out[name] = cls(
                description=node.description,
                name=node.name,
                interfaces=interfaces,
                directives=(),
                fields=tuple(fields),
            )
        elif isinstance(node, UnionTypeDefinitionNode):
            members = tuple(t for t in node.types or () if t.name.value in KEEP)
            out[name] = UnionTypeDefinitionNode(
                description=node.description, name=node.name, directives=(), types=members
            )
        elif isinstance(node, InputObjectTypeDefinitionNode):
            inputs = tuple(_strip_arg(a) for a in node.fields or ())
            for a in inputs:
                need(_named(a.type))
            out[name] = InputObjectTypeDefinitionNode(
                description=node.description, name=node.name, directives=(), fields=inputs
            )
        elif isinstance(node, EnumTypeDefinitionNode):
            out[name] = node
        elif isinstance(node, ScalarTypeDefinitionNode):
            out[name] = ScalarTypeDefinitionNode(
                description=node.description, name=node.name, directives=()
            )
        else:  # pragma: no cover - GitHub's schema has no other kinds
            raise SystemExit(f"unexpected definition {name}")
    body = "\n\n".join(print_ast(out[name]) for name in sorted(out))
    header = (
        f"# A subset of GitHub's public GraphQL schema ({SOURCE}, MIT licence, (c) GitHub),\n"
        "# cut by connectors/sandbox/github/extract_schema.py. Do not edit by hand.\n\n"
    )
    return header + "schema {\n  query: Query\n}\n\n" + body + "\n"


def main(argv: list[str]) -> int:
    full = parse(Path(argv[0]).read_text(encoding="utf-8"), no_location=True)
    OUTPUT.write_text(extract(full), encoding="utf-8")
    print(f"wrote {OUTPUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
