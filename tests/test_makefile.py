"""The developer commands say what they do and do it (``make -n``: printed, not run)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")


def make(*args: str) -> str:
    done = subprocess.run(
        ["make", "--no-print-directory", *args], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_help_lists_every_target() -> None:
    phony = re.search(r"^\.PHONY:(.*)$", (ROOT / "Makefile").read_text(), re.MULTILINE)
    assert phony is not None
    shown = make("help")
    for target in phony.group(1).split():
        if target not in ("help", "install"):
            assert f"make {target} " in shown, target


def test_lab_args_add_to_what_running_as_root_needs() -> None:
    command = make("-n", "lab", "LAB_ARGS=--no-browser").strip().splitlines()[-1]
    assert "--no-browser" in command
    if os.geteuid() == 0:
        assert "--allow-root" in command  # replacing LAB_ARGS must not drop it


def test_the_first_install_says_what_it_does(tmp_path: Path) -> None:
    out = make("-n", "install", f"VENV={tmp_path / 'venv'}")
    assert "installing Pipeline Lab and its dependencies" in out


def test_the_repository_documents_its_own_architecture() -> None:
    """Code and contracts cite a file of this repository, not one outside it."""
    architecture = (ROOT / "ARCHITECTURE.md").read_text()
    for topic in ("## Layers", "## A run", "## Where to add", "executor", "component", "gate"):
        assert topic in architecture
    cited = [
        path
        for path in [ROOT / "pyproject.toml", *(ROOT / "pipeline_lab").rglob("*.py")]
        if "DESIGN.md" in path.read_text()
    ]
    assert cited == []
    assert "ARCHITECTURE.md" in (ROOT / "pyproject.toml").read_text()
    assert "ARCHITECTURE.md" in (ROOT / "README.md").read_text()
