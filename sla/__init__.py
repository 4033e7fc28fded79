"""Service levels: measurements pulled from Prometheus, maintenance windows, monthly reports, ratings."""
