"""The bureau's side: service catalog, budgets, purchase requests, contracts and service instances."""
