"""The interval the benchmarks print around a mean cost (bench/variants.py)."""

from __future__ import annotations

import math

import pytest

from bench.variants import mean_interval


def test_the_interval_is_students_t_over_the_standard_error() -> None:
    mean, margin = mean_interval([1.0, 2.0, 3.0, 4.0, 5.0])
    assert mean == 3.0
    # t(0.975, 4 degrees of freedom) = 2.776; standard deviation 1.5811; five values.
    assert margin == pytest.approx(2.776 * math.sqrt(2.5) / math.sqrt(5), rel=1e-4)


def test_equal_rounds_leave_no_doubt_and_one_round_leaves_all() -> None:
    assert mean_interval([4.0, 4.0, 4.0]) == (4.0, 0.0)
    assert mean_interval([4.0]) == (4.0, math.inf)


def test_many_rounds_use_the_normal_quantile() -> None:
    values = [float(v % 7) for v in range(100)]
    mean, margin = mean_interval(values)
    assert margin == pytest.approx(1.96 * (sum((v - mean) ** 2 for v in values) / 99) ** 0.5
                                   / 10)
