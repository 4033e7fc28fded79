"""The console's shell: the static files every page loads (vendored, served by OpsCenter itself) and the API
documentation pages. Part of the wiring, beside opscenter.app and opscenter.plugin."""
