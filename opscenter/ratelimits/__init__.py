"""Rate limits: requests per window per API key (per client address without one), by route class; refused
credentials per client address. ``counters`` keeps the counts (this process, or Redis shared by every API
process); ``middleware`` answers 429 and tells every caller where it stands (``RateLimit-Policy``, ``RateLimit``)."""
