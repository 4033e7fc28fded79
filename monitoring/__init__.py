"""What OpsCenter exposes to Prometheus, and (later) what it asks of Prometheus."""
