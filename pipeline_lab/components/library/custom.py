"""Custom transforms: ``@pipeline_lab.transform`` functions and the python component."""

from __future__ import annotations
