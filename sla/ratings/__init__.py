"""Ratings: each month each department rates each service instance it uses (DESIGN §6)."""
