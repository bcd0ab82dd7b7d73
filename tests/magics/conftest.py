from __future__ import annotations

from collections.abc import Iterator

import pytest
from IPython.core.interactiveshell import InteractiveShell


@pytest.fixture
def shell(monkeypatch: pytest.MonkeyPatch) -> Iterator[InteractiveShell]:
    """A real IPython shell with Pipeline Lab loaded (store off unless a test turns it on)."""
    monkeypatch.setenv("PIPELINE_LAB_STORE", "off")
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    ip = InteractiveShell()
    ip.run_line_magic("load_ext", "pipeline_lab")
    yield ip
    ip.run_line_magic("unload_ext", "pipeline_lab")
    InteractiveShell.clear_instance()
