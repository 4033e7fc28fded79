"""Who is calling: API keys, the acting identity, and the role guards every route declares."""
