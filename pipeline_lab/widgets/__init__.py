"""The interactive graph widget and visual builder (not built yet)."""
