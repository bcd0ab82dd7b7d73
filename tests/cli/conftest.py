from __future__ import annotations

import json
from pathlib import Path

import pytest


def _cell(source: str, tags: list[str] | None = None) -> dict[str, object]:
    return {
        "cell_type": "code",
        "execution_count": None,
        "metadata": {"tags": tags or []},
        "outputs": [],
        "source": source,
    }


@pytest.fixture
def write_notebook(tmp_path: Path):
    """Write a notebook from cell sources; ``("parameters", src)`` tuples are tagged cells."""

    def write(*cells: str | tuple[str, str], name: str = "flow.ipynb") -> Path:
        nb = {
            "cells": [_cell(c[1], [c[0]]) if isinstance(c, tuple) else _cell(c) for c in cells],
            "metadata": {
                "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
            },
            "nbformat": 4,
            "nbformat_minor": 5,
        }
        path = tmp_path / name
        path.write_text(json.dumps(nb))
        return path

    return write
