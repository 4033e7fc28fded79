"""``opscenter demo``: a realistic province built through the domains' own services and flows.

Wiring, like ``opscenter.plugin``: it knows every domain and nothing imports it but the CLI.
"""
