"""The `switchyard` CLI run as a user runs it (a subprocess) against a real API server."""
