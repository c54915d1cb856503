"""``hub policy check|test|explain|matrix``: the security team's tools for the policy files.

They read the policy folder and nothing else (no database, no network): the policy engine is
pure, so everything the hub would decide about a policy can be decided here, before it ships.
Exit codes: 0 fine, 1 problems found (or tests failed), 2 a wrong question (unknown field,
unknown client).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from graphql import GraphQLSchema

from hub.config import policy_dir

if TYPE_CHECKING:
    from hub.policy.load import Problem

__all__ = ["add_commands", "main"]

OK, FAILED, WRONG_QUESTION = 0, 1, 2


def _folder(args: argparse.Namespace) -> Path:
    folder: Path = args.dir or policy_dir()
    return folder


def _check(args: argparse.Namespace) -> int:
    from hub.policy.lint import lint_workspace
    from hub.policy.workspace import open_workspace

    workspace = open_workspace(_folder(args), args.full_schema)
    findings = lint_workspace(workspace)
    for finding in findings:
        print(finding.render())
    counts = {level: sum(f.level == level for f in findings)
              for level in ("ERROR", "WARNING", "INFO")}
    print(f"{len(workspace.files)} policy file(s), {len(workspace.views())} client purpose(s) "
          f"compiled: {counts['ERROR']} error(s), {counts['WARNING']} warning(s), "
          f"{counts['INFO']} note(s)")
    if counts["ERROR"] or (args.strict and counts["WARNING"]):
        return FAILED
    return OK


def _test(args: argparse.Namespace) -> int:
    from hub.policy.findings import from_problem
    from hub.policy.testing import run_tests
    from hub.policy.workspace import open_workspace

    workspace = open_workspace(_folder(args), args.full_schema)
    problems = list(workspace.problems)
    if args.client is not None:
        problems = [p for p in problems if p.file == f"{args.client}.yaml"]
        if args.client not in workspace.clients and not problems:
            print(f"error: no policy for client {args.client!r} in {_folder(args)} (clients: "
                  f"{', '.join(workspace.clients) or 'none'})", file=sys.stderr)
            return WRONG_QUESTION
    for problem in problems:
        print(from_problem(problem).render())
    untested = [client for cid, client in workspace.clients.items()
                if cid not in workspace.engines and args.client in (None, cid)]
    for client in untested:
        print(f"ERROR {client.source.name}: its {len(client.tests)} test case(s) cannot run: "
              "the policy does not compile")
    results = run_tests(workspace, args.client)
    for result in results:
        status = "PASS" if result.passed else "FAIL"
        print(f"{status} {result.client.source.name}: {result.test.purpose}: {result.test.name}")
        for failure in result.failures:
            print(f"    - {failure}")
    failed = sum(not result.passed for result in results)
    print(f"{len(results)} test case(s): {len(results) - failed} passed, {failed} failed"
          + (f"; {len(untested)} client(s) not tested" if untested else ""))
    return FAILED if failed or problems else OK


def _refuse_broken(problems: Sequence[Problem]) -> int:
    print("error: the policies do not load or compile; `hub policy check` lists:",
          file=sys.stderr)
    for problem in problems:
        print(f"  {problem}", file=sys.stderr)
    return FAILED


def _explain(args: argparse.Namespace) -> int:
    from hub.policy.explain import UnknownTarget, explain
    from hub.policy.workspace import open_workspace

    workspace = open_workspace(_folder(args), args.full_schema)
    try:
        lines = explain(workspace, args.target)
    except UnknownTarget as error:
        print(f"error: {error}", file=sys.stderr)
        return WRONG_QUESTION
    if not workspace.ok:
        return _refuse_broken(workspace.problems)
    print("\n".join(lines))
    return OK


def _documents(args: argparse.Namespace) -> int:
    from graphql import OperationDefinitionNode, parse

    from hub.policy.workspace import open_workspace

    workspace = open_workspace(_folder(args), args.full_schema)
    if args.client is not None and args.client not in workspace.clients:
        print(f"error: no policy for client {args.client}", file=sys.stderr)
        return WRONG_QUESTION
    for client_id, client in workspace.clients.items():
        if args.client is not None and client_id != args.client:
            continue
        if not client.documents:
            continue
        rule = "only these" if client.documents_required else "these by id, any other too"
        print(f"{client_id} ({client.source.name}): {len(client.documents)} trusted "
              f"document(s), {rule}")
        for named, text in client.documents.items():
            operations = [d.name.value if d.name else "(anonymous)"
                          for d in parse(text).definitions
                          if isinstance(d, OperationDefinitionNode)]
            print(f"  {named}  {', '.join(operations)}")
    return OK


def _matrix(args: argparse.Namespace) -> int:
    from hub.policy.matrix import build_matrix, render_text
    from hub.policy.matrix_html import render_html
    from hub.policy.workspace import open_workspace

    workspace = open_workspace(_folder(args), args.full_schema)
    if not workspace.ok:
        return _refuse_broken(workspace.problems)
    matrix = build_matrix(workspace)
    if args.html is None:
        sys.stdout.write(render_text(matrix))
        return OK
    args.html.write_text(render_html(matrix), encoding="utf-8")
    print(f"wrote {args.html}: {len(matrix.rows)} fields x {len(matrix.columns)} client "
          "purposes")
    return OK


def add_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``policy`` and its subcommands to the ``hub`` command line."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--dir", type=Path, default=None,
                        help="the policy folder (default: HUB_POLICY_DIR, else policies/)")
    policy = subparsers.add_parser("policy", help="check, test and explain the access policies")
    # Tests hand in a schema built once; the command line builds its own.
    policy.set_defaults(full_schema=None)
    commands = policy.add_subparsers(dest="policy_command", required=True)

    check = commands.add_parser("check", parents=[common],
                                help="validate, compile and lint every policy file")
    check.add_argument("--strict", action="store_true", help="fail on warnings too")
    check.set_defaults(run=_check)

    test = commands.add_parser("test", parents=[common],
                               help="run the policy files' own test cases")
    test.add_argument("--client", help="only this client's test cases")
    test.set_defaults(run=_test)

    explain = commands.add_parser("explain", parents=[common],
                                  help="who may see Type.field (or a type), or submit a kind "
                                       "of change (write:KIND), for which purpose")
    explain.add_argument("target", metavar="Type[.field]|write[:KIND]")
    explain.set_defaults(run=_explain)

    documents = commands.add_parser("documents", parents=[common],
                                    help="each client's trusted documents and their ids")
    documents.add_argument("--client", help="only this client's documents")
    documents.set_defaults(run=_documents)

    matrix = commands.add_parser("matrix", parents=[common],
                                 help="every field against every client and purpose")
    matrix.add_argument("--html", type=Path, metavar="FILE",
                        help="write a self-contained HTML page instead of the text table")
    matrix.set_defaults(run=_matrix)


def main(argv: Sequence[str] | None = None, *, schema: GraphQLSchema | None = None) -> int:
    """``hub policy ...`` on its own: ``main(["policy", "check"])``."""
    parser = argparse.ArgumentParser(prog="hub")
    add_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    args.full_schema = schema
    result: int = args.run(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
