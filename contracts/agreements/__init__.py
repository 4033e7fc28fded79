"""Contracts between the bureau and the operations center: versions, amendments, lines and expiry."""
