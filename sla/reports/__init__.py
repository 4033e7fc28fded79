"""Monthly SLA reports per contract line, computed from the measured days (DESIGN §4, §5)."""
