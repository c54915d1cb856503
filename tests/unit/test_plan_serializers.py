"""Leaf serializers of the plan executor keep graphql-core's output coercion rules."""

from __future__ import annotations

import math

import pytest
from graphql import GraphQLError, GraphQLFloat, GraphQLInt, GraphQLString

from adapters.record_mapping import CONVERTERS
from resolvers.plan.compile import _serializer


def test_int_is_32_bit() -> None:
    serialize = _serializer(GraphQLInt)
    assert serialize(2**31 - 1) == 2**31 - 1
    for too_big in (2**31, -(2**31) - 1, 10**30):
        with pytest.raises(GraphQLError):
            serialize(too_big)


def test_float_is_finite() -> None:
    serialize = _serializer(GraphQLFloat)
    assert serialize(2.34) == 2.34
    for not_finite in (math.nan, math.inf, -math.inf):
        with pytest.raises(GraphQLError):
            serialize(not_finite)


def test_other_values_take_graphql_cores_coercion() -> None:
    assert _serializer(GraphQLString)(12) == "12"
    assert _serializer(GraphQLInt)(3.0) == 3


def test_vendor_numbers_are_read_strictly() -> None:
    as_float, as_int = CONVERTERS["float"], CONVERTERS["int"]
    assert as_float("NaN") is None
    assert as_float("inf") is None
    assert as_float("2.34") == 2.34
    assert as_float(True) is None
    assert as_int(2.5) is None
    assert as_int(3.0) == 3
    assert as_int("7") == 7
