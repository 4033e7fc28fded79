"""API keys (issued once, stored as a hash, revocable) and the authentication of every request by its key."""
