"""Synthetic data for the national database and the systems the hub federates.

``seed_all`` (re)creates everything from (employees, seed): the same pair always yields the
same bytes. See ``hub/seed/README.md`` for what is generated and how.
"""

from hub.seed.ensure import ensure_seeded
from hub.seed.run import SeedSummary, seed_all

__all__ = ["SeedSummary", "ensure_seeded", "seed_all"]
