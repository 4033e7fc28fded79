"""The operations center's own work: tickets under their SLA clocks, and the asset handover and register."""
