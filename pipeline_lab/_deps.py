"""Lazy imports of heavy or optional dependencies, with the exact install line when missing.

:data:`INSTALL` is the one table of install lines: every "not installed" error Pipeline Lab
raises (a database driver, a cloud file system, Dask, keyring) takes its hint from it, through
:func:`import_optional`, or :func:`missing_dependency` where a library did the import.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from pipeline_lab.errors import PipelineLabError

INSTALL = {
    # database drivers: the extras pin the versions Pipeline Lab is tested with
    "psycopg": "pip install 'pipeline-lab[postgres]'",
    "pymysql": "pip install 'pipeline-lab[mysql]'",
    "pyodbc": "pip install 'pipeline-lab[mssql]'",
    "oracledb": "pip install 'pipeline-lab[oracle]'",
    # import names whose distribution is called something else
    "psycopg2": "pip install psycopg2-binary (or use postgresql+psycopg://, psycopg 3)",
    "MySQLdb": "pip install mysqlclient",
    "mysql": "pip install mysql-connector-python",
    "dask": "pip install 'dask[distributed]'",
}
"""Top-level import name -> the command that installs it (default: ``pip install NAME``)."""


def install_command(module: str) -> str:
    """The command that installs the package of import name ``module`` (or its top level)."""
    top = module.split(".")[0]
    return INSTALL.get(top, f"pip install {top}")


def missing_dependency(
    module: str,
    message: str,
    *,
    error: type[PipelineLabError] = PipelineLabError,
    dataset: str | None = None,
) -> PipelineLabError:
    """The error for a missing ``module``: ``message``, with the install command as its hint."""
    return error(message, dataset=dataset, hint=f"run: {install_command(module)}")


def import_optional(
    module: str,
    *,
    purpose: str,
    error: type[PipelineLabError] = PipelineLabError,
    dataset: str | None = None,
) -> ModuleType:
    """Import ``module`` or raise an error naming what needs it and how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        top = module.split(".")[0]
        raise missing_dependency(
            top,
            f"{purpose} needs the optional package '{top}', which is not installed",
            error=error,
            dataset=dataset,
        ) from exc
