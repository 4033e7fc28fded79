"""Notifications addressed to organizations (contract expiry, and later tickets and statements)."""
