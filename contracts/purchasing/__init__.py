"""Purchase requests: a department asks, the bureau approves against the fiscal-year budget."""
