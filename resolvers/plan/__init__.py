"""The plan executor: runs a query's fields level by level instead of field by field.

graphql-core resolves and completes every field of every object separately (an ``Info``,
argument handling, an awaitable check, a completion call: microseconds each, so thousands per
page). Below each root field this package instead compiles the selection into a plan once per
request, fetches each level of the query with one loader call per link field, and builds the
response with plain dictionary reads. Results, errors and null propagation are those of
graphql-core (a differential test holds the two paths to the same answers); anything the plan
cannot express (abstract types, nested lists, incremental delivery) falls back to graphql-core.
"""

from resolvers.plan.executor import PlanExecutor

__all__ = ["PlanExecutor"]
