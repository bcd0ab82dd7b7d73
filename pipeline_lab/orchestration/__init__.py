"""Papermill execution and the scheduler (not built yet)."""
