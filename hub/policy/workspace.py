"""The policy folder as the security team's tools see it: loaded and compiled file by file.

The hub loads a folder all or nothing (``load_policy_dir``, ``PolicyEngine``), which is right
for serving but hides, behind the first broken file, what is wrong with the others. The tools
report every problem the whole-folder load gives, then carry on with each file that loads and
each client that compiles on its own, so one run shows everything there is to fix.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from graphql import GraphQLSchema

from hub.policy.compile import ClientView, PolicyEngine
from hub.policy.load import (
    PolicyError,
    Problem,
    load_policy_dir,
    load_policy_files,
    policy_files,
)
from hub.policy.model import ClientPolicy, PolicySet

__all__ = ["CLI_SECRET", "Workspace", "full_schema", "open_workspace"]

# Masks keyed with this secret are never shown: the tools read which mask applies, not values.
CLI_SECRET = b"policy-cli"


@dataclass(frozen=True, slots=True)
class Workspace:
    directory: Path
    schema: GraphQLSchema                  # the full schema
    files: tuple[Path, ...]                # every policy file in the folder
    clients: Mapping[str, ClientPolicy]    # the files that load, by client id (sorted)
    engines: Mapping[str, PolicyEngine]    # the clients whose every purpose compiles
    problems: tuple[Problem, ...]          # load and compile problems
    digest: str | None                     # of the whole set, when the whole set loads

    @property
    def ok(self) -> bool:
        return not self.problems

    def views(self) -> list[ClientView]:
        """Every compiled view: clients by id, each client's purposes in file order."""
        views: list[ClientView] = []
        for client_id, engine in self.engines.items():
            client = self.clients[client_id]
            views.extend(engine.view(client_id, purpose) for purpose in client.purposes)
        return views


def full_schema() -> GraphQLSchema:
    from resolvers.schema import build_schema

    return build_schema()._schema


def _load(directory: Path, files: list[Path]) -> tuple[dict[str, ClientPolicy],
                                                       list[Problem], str | None]:
    try:
        policy_set = load_policy_dir(directory)
    except PolicyError as error:
        problems = list(error.problems)
    else:
        return dict(policy_set.clients), [], policy_set.digest
    # The set is refused; the files that load on their own are still worth checking. Their
    # own problems are already among the set's, so only successes are kept here.
    clients: dict[str, ClientPolicy] = {}
    for path in files:
        try:
            loaded = load_policy_files([path])
        except PolicyError:
            continue
        for client_id, client in loaded.clients.items():
            clients.setdefault(client_id, client)  # a duplicate id was reported by the set
    return clients, problems, None


def open_workspace(directory: Path, schema: GraphQLSchema | None = None) -> Workspace:
    schema = schema if schema is not None else full_schema()
    files = policy_files(directory) if directory.is_dir() else []
    clients, problems, digest = _load(directory, files)
    engines: dict[str, PolicyEngine] = {}
    for client_id in sorted(clients):
        alone = PolicySet(clients={client_id: clients[client_id]}, digest=client_id)
        try:
            engines[client_id] = PolicyEngine(alone, schema, CLI_SECRET)
        except PolicyError as error:
            problems.extend(error.problems)
    return Workspace(directory=directory, schema=schema, files=tuple(files),
                     clients={c: clients[c] for c in sorted(clients)}, engines=engines,
                     problems=tuple(problems), digest=digest)
