"""Dataset- and column-level lineage, OpenLineage events, compliance and audit (not built yet)."""
