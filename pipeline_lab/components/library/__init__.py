"""The built-in components; importing this package registers them."""

from __future__ import annotations

from pipeline_lab.components.library import transforms  # noqa: F401
