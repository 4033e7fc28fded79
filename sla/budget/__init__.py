"""The contractual error budget, watched by Prometheus: burn-rate rules generated from approved contracts."""
