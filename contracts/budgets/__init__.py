"""Departments' fiscal-year budgets, set by the bureau and consumed by approved purchase requests."""
