"""Every test gets its own Pipeline Lab home, so no test reads or writes the user's state."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def pipeline_lab_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """``PIPELINE_LAB_HOME`` in a fresh temporary folder; the default SQLite store lives there."""
    home = tmp_path_factory.mktemp("pipeline_lab_home")
    monkeypatch.setenv("PIPELINE_LAB_HOME", str(home))
    monkeypatch.delenv("PIPELINE_LAB_DB_URL", raising=False)
    yield home
    store = sys.modules.get("pipeline_lab.store")
    if store is not None:
        # Stores opened by default hooks hold connections and a writer thread: one per test.
        store.close_stores()
