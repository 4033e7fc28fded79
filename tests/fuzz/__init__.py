"""Schemathesis over the whole OpenAPI document, as every role, against a seeded world (tests/fuzz/seeds)."""
