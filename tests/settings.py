"""Settings of the test run itself."""

from __future__ import annotations

import os
import re

__all__ = ["TEST_DB_PREFIX"]

# Test databases are named after this prefix (hubtest, hubtest_auth, ...) and recreated by
# each run. Two test runs on one PostgreSQL server at once need different prefixes.
TEST_DB_PREFIX = os.environ.get("HUB_TEST_DB_PREFIX", "hubtest")
if not re.fullmatch(r"[a-z][a-z0-9_]{0,30}", TEST_DB_PREFIX):
    raise RuntimeError("HUB_TEST_DB_PREFIX must be lower-case letters, digits and _ "
                       "(at most 31 characters)")
