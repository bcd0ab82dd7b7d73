"""Runs here never touch the metadata store: ``hooks=None`` means checks and metrics only."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _no_store(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIPELINE_LAB_STORE", "off")
