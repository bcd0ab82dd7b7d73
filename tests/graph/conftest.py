"""Fixture notebooks and a builder for small throwaway ones."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

NOTEBOOKS = Path(__file__).resolve().parents[1] / "data" / "notebooks"


@pytest.fixture
def notebooks() -> Path:
    return NOTEBOOKS


@pytest.fixture
def builder(notebooks: Path, tmp_path: Path) -> Path:
    """A copy of a Jupyter-saved notebook with markdown, an attachment, outputs, a raw cell,
    builder state in cell metadata, and node cells (ids: intro, params, ..., raw-notes)."""
    return Path(shutil.copy(notebooks / "builder.ipynb", tmp_path / "builder.ipynb"))


def _code_cell(source: str, tags: list[str] | None = None) -> dict[str, Any]:
    cell: dict[str, Any] = {
        "cell_type": "code",
        "execution_count": None,
        "metadata": {"tags": tags} if tags else {},
        "outputs": [],
        "source": source.splitlines(keepends=True),
    }
    return cell


@pytest.fixture
def make_notebook(tmp_path: Path) -> Callable[..., Path]:
    """Write an nbformat 4 notebook: a cell is code, ``(code, tags)`` or a ready-made dict."""

    def cell(spec: str | tuple[str, list[str]] | dict[str, Any]) -> dict[str, Any]:
        if isinstance(spec, str):
            return _code_cell(spec)
        if isinstance(spec, tuple):
            return _code_cell(*spec)
        return spec

    def make(*cells: str | tuple[str, list[str]] | dict[str, Any], name: str = "nb.ipynb") -> Path:
        notebook = {
            "cells": [cell(c) for c in cells],
            "metadata": {},
            "nbformat": 4,
            "nbformat_minor": 5,
        }
        path = tmp_path / name
        path.write_text(json.dumps(notebook), encoding="utf-8")
        return path

    return make
