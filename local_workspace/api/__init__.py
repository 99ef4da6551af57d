"""REST API modules of the local workspace; each exposes ``routes(state)``."""
