"""Organizations (bureau, operations center, departments) and their users."""
