"""Service instances: what the operations center provisions for each contract line, and how Prometheus finds it."""
