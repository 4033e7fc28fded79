"""Billing: monthly statements, disputes, credit notes."""
