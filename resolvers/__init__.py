"""GraphQL types and resolvers, one module per domain; per-request loaders."""
