"""Maintenance windows: proposed by the operator before they start, approved by the bureau, cut out of the SLA."""
