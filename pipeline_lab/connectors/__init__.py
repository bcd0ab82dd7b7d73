"""Connectors for SQL databases, files, HTTP APIs and streams (not built yet)."""
