"""The business calendar: official working days, admin overrides, working hours and the business clock."""
