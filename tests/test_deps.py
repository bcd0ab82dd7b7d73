"""Optional dependencies: one table of install lines, one error shape when one is missing."""

from __future__ import annotations

import pytest

from pipeline_lab._deps import import_optional, install_command, missing_dependency
from pipeline_lab.errors import ConnectorError, PipelineLabError, StoreError


@pytest.mark.parametrize(
    ("module", "command"),
    [
        pytest.param("psycopg", "pip install 'pipeline-lab[postgres]'", id="postgres-extra"),
        pytest.param("pymysql", "pip install 'pipeline-lab[mysql]'", id="mysql-extra"),
        pytest.param("pyodbc", "pip install 'pipeline-lab[mssql]'", id="mssql-extra"),
        pytest.param("oracledb", "pip install 'pipeline-lab[oracle]'", id="oracle-extra"),
        pytest.param("MySQLdb", "pip install mysqlclient", id="other-distribution-name"),
        pytest.param("mysql.connector", "pip install mysql-connector-python", id="submodule"),
        pytest.param("dask.distributed", "pip install 'dask[distributed]'", id="dask"),
        pytest.param("s3fs", "pip install s3fs", id="same-name"),
    ],
)
def test_install_commands(module: str, command: str) -> None:
    assert install_command(module) == command
    error = missing_dependency(module, "x needs it", error=StoreError)
    assert isinstance(error, StoreError) and error.hint == f"run: {command}"


def test_a_missing_optional_package_names_its_purpose_and_the_install_line() -> None:
    with pytest.raises(ConnectorError) as info:
        import_optional("pl_no_such_pkg.sub", purpose="a test", error=ConnectorError, dataset="d")
    assert info.value.message == (
        "a test needs the optional package 'pl_no_such_pkg', which is not installed"
    )
    assert info.value.hint == "run: pip install pl_no_such_pkg" and info.value.dataset == "d"
    with pytest.raises(PipelineLabError, match="needs the optional package 'pl_no_such_pkg'"):
        import_optional("pl_no_such_pkg", purpose="a test")
    assert import_optional("json", purpose="a test").dumps([1]) == "[1]"
