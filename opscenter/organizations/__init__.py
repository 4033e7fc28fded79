"""Organizations (bureau, operations center, departments) and their users: kept by the admin, every change audited."""
