"""The policy engine: policy files loaded (``load``), checked and compiled into per-client
views (``compile``, ``schema_view``), swapped in on change (``store``), and the security
team's tools (``cli``). Pure after loading: no I/O on the request path.

Import from the submodules: this package imports nothing itself, so the ``hub`` command line
does not load the GraphQL schema for commands that do not need it.
"""
