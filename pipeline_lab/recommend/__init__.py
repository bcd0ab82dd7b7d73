"""Suggestions for transforms, joins and schema mappings (not built yet)."""
