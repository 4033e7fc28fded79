"""Daily SLI measurements of every service instance, pulled from Prometheus (DESIGN §4)."""
