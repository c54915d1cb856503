"""The hub: a GraphQL gateway over the national personnel database and the systems it links."""
