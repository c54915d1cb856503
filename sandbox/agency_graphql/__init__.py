"""Simulated Hà Nội provincial HR system, speaking GraphQL."""
