"""``pipeline-lab sources``: add, list, test, inspect, remove — exit codes, tables, JSON, secrets."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline_lab.cli import main
from pipeline_lab.store import open_store

BIN = Path(sys.executable).parent / "pipeline-lab"
SECRET = "Sup3r-s3cret-value"


@pytest.fixture(autouse=True)
def wide_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tables as wide as the long temporary paths (rich folds cells to the terminal width)."""
    monkeypatch.setenv("COLUMNS", "250")


@pytest.fixture
def shop_db(tmp_path: Path) -> Path:
    path = tmp_path / "shop.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, customer TEXT, amount REAL)")
        conn.executemany("INSERT INTO orders VALUES (?, ?, ?)", [(1, "ann", 12.5), (2, "bob", 7.0)])
        conn.execute("CREATE TABLE customers (name TEXT NOT NULL)")
    conn.close()
    return path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["sources", *args])
    out, err = capsys.readouterr()
    return code, out, err


def stored_rows() -> str:
    from sqlalchemy import text

    with open_store().engine.connect() as conn:
        rows = conn.execute(text("SELECT * FROM data_sources")).mappings().all()
    return json.dumps([dict(r) for r in rows], default=str)


def test_add_list_and_remove(capsys: pytest.CaptureFixture[str], shop_db: Path) -> None:
    code, out, _ = run(capsys, "add", "shop", f"sqlite:///{shop_db}", "--option", "schema=main")
    assert code == 0
    assert "added data source shop (sqlite)" in out and str(shop_db) in out

    code, out, _ = run(capsys, "list")
    assert code == 0
    for text in ("name", "kind", "url", "shop", "sqlite", 'schema="main"'):
        assert text in out

    code, out, _ = run(capsys, "list", "--json")
    assert code == 0
    assert json.loads(out) == [
        {
            "name": "shop",
            "kind": "sqlite",
            "url": f"sqlite:///{shop_db}",
            "options": {"schema": "main"},
            "secrets": {},
        }
    ]

    code, out, _ = run(capsys, "remove", "shop")
    assert code == 0 and "removed data source shop" in out
    code, out, _ = run(capsys, "list")
    assert "no data sources yet" in out
    assert run(capsys, "list", "--json")[1].strip() == "[]"


def test_no_action_lists(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys)
    assert code == 0 and "no data sources yet" in out


def test_option_values_are_json_when_they_parse(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, _ = run(
        capsys,
        "add",
        "orders",
        str(tmp_path / "orders.csv"),
        "--option",
        "has_header=false",
        "--option",
        "skip_rows=2",
        "--option",
        "separator=;",
        "--option",
        'null_values=["NA", "-"]',
    )
    assert code == 0
    [source] = json.loads(run(capsys, "list", "--json")[1])
    assert source["options"] == {
        "has_header": False,
        "skip_rows": 2,
        "separator": ";",
        "null_values": ["NA", "-"],
    }
    assert source["kind"] == "file" and source["url"] == str(tmp_path / "orders.csv")


@pytest.fixture
def postgres_url() -> str:
    """The local PostgreSQL server (trust authentication: a password is sent, not checked)."""
    psycopg = pytest.importorskip("psycopg")
    try:
        psycopg.connect(
            host="127.0.0.1", user="postgres", dbname="postgres", connect_timeout=3
        ).close()
    except psycopg.OperationalError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL on 127.0.0.1:5432 is down: {exc}")
        pytest.skip(f"no PostgreSQL on 127.0.0.1:5432: {exc}")
    return "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


@pytest.mark.postgres
def test_secrets_show_as_references_never_as_values(
    capsys: pytest.CaptureFixture[str], postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHOP_PASSWORD", SECRET)
    code, out, err = run(
        capsys, "add", "shop", postgres_url, "--secret", "password=env:SHOP_PASSWORD", "--test"
    )
    assert code == 0 and "password: env:SHOP_PASSWORD" in out
    outputs = [out, err]
    for args in (("list",), ("list", "--json"), ("test", "shop"), ("test", "shop", "--json")):
        code, out, err = run(capsys, *args)
        assert code == 0
        outputs += [out, err]
    assert "password: env:SHOP_PASSWORD" in outputs[2]
    assert json.loads(outputs[4])[0]["secrets"] == {"password": "env:SHOP_PASSWORD"}
    assert all(SECRET not in text for text in outputs)
    assert SECRET not in stored_rows()


def test_an_unset_variable_is_noted_when_adding(
    capsys: pytest.CaptureFixture[str], shop_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PL_NOT_SET_ANYWHERE", raising=False)
    code, out, _ = run(
        capsys,
        "add",
        "shop",
        f"sqlite:///{shop_db}",
        "--secret",
        "password=env:PL_NOT_SET_ANYWHERE",
    )
    assert code == 0 and "PL_NOT_SET_ANYWHERE is not set here" in out


def test_a_password_in_the_url_is_refused_with_the_secret_hint(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run(capsys, "add", "shop", f"postgresql+psycopg://me:{SECRET}@db:5432/shop")
    assert code == 2
    assert "contains a password" in err
    assert "--secret password=env:SHOP_PASSWORD" in err
    assert SECRET not in out + err
    assert run(capsys, "list", "--json")[1].strip() == "[]"


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["--secret", f"password={SECRET}"], id="bare-value"),
        pytest.param(["--secret", f"password=x:{SECRET}"], id="value-with-colon"),
        pytest.param(["--secret", SECRET], id="no-equals"),
        pytest.param(["--option", f"password={SECRET}"], id="as-option"),
    ],
)
def test_secret_values_are_refused_and_not_echoed(
    capsys: pytest.CaptureFixture[str], shop_db: Path, args: list[str]
) -> None:
    code, out, err = run(capsys, "add", "shop", f"sqlite:///{shop_db}", *args)
    assert code == 2 and err.startswith("error: ")
    assert "hint:" in err
    assert SECRET not in out + err
    assert run(capsys, "list", "--json")[1].strip() == "[]"


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({"Cookie": f"sid={SECRET}"}, id="cookie"),
        pytest.param({"Proxy-Authorization": f"Basic {SECRET}"}, id="proxy-authorization"),
        pytest.param({"X-Auth": SECRET}, id="x-auth"),
        pytest.param({"X-Whatever": f"Bearer {SECRET}"}, id="bearer-value"),
    ],
)
def test_credential_headers_are_refused_and_not_echoed(
    capsys: pytest.CaptureFixture[str], headers: dict[str, str]
) -> None:
    code, out, err = run(
        capsys,
        "add",
        "api",
        "https://api.example.com/v1",
        "--option",
        f"headers={json.dumps(headers)}",
    )
    assert code == 2 and "holds" in err and "hint:" in err
    assert SECRET not in out + err
    assert run(capsys, "list", "--json")[1].strip() == "[]"
    assert SECRET not in stored_rows()


def test_listing_masks_credentials_an_older_store_kept(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A source stored before the checks existed: shown with its credentials masked."""
    from sqlalchemy import text

    assert run(capsys, "add", "api", "https://api.example.com/v1")[0] == 0
    options = {
        "headers": {"Cookie": f"sid={SECRET}", "Accept": "text/csv"},
        "proxy": f"http://me:{SECRET}@proxy:3128",
        "records_path": "data",
    }
    with open_store().engine.begin() as conn:
        conn.execute(
            text("UPDATE data_sources SET options = :o WHERE name = 'api'"),
            {"o": json.dumps(options)},
        )
    code, listed, _ = run(capsys, "list")
    assert code == 0 and SECRET not in listed and "text/csv" in listed
    code, listed_json, _ = run(capsys, "list", "--json")
    assert code == 0 and SECRET not in listed_json
    assert json.loads(listed_json)[0]["options"] == {
        "headers": {"Cookie": "***", "Accept": "text/csv"},
        "proxy": "***",
        "records_path": "data",
    }


def test_adding_a_taken_name_needs_replace(
    capsys: pytest.CaptureFixture[str], shop_db: Path, tmp_path: Path
) -> None:
    assert run(capsys, "add", "shop", f"sqlite:///{shop_db}")[0] == 0
    code, _, err = run(capsys, "add", "shop", str(tmp_path / "x.csv"))
    assert code == 2 and "already exists" in err and "--replace" in err
    code, out, _ = run(capsys, "add", "shop", str(tmp_path / "x.csv"), "--replace")
    assert code == 0 and "replaced data source shop (file)" in out
    assert json.loads(run(capsys, "list", "--json")[1])[0]["kind"] == "file"


def test_test_reports_latency_and_exit_codes(
    capsys: pytest.CaptureFixture[str], shop_db: Path, tmp_path: Path
) -> None:
    run(capsys, "add", "shop", f"sqlite:///{shop_db}")
    code, out, _ = run(capsys, "test", "shop")
    assert code == 0 and "shop: ok: connected to" in out and " ms" in out
    assert len(out.strip().splitlines()) == 1  # said once: the latency is not repeated

    code, out, _ = run(capsys, "test", "shop", "--json")
    data = json.loads(out)
    assert code == 0
    assert set(data) == {"name", "ok", "latency_s", "message"}
    assert data["name"] == "shop" and data["ok"] is True and 0 < data["latency_s"] < 5

    run(capsys, "add", "broken", f"sqlite:///{tmp_path / 'no' / 'such' / 'dir.db'}")
    code, out, _ = run(capsys, "test", "broken")
    assert code == 1 and "broken: failed after" in out and len(out.strip().splitlines()) == 1
    code, out, _ = run(capsys, "test", "broken", "--json")
    assert code == 1 and json.loads(out)["ok"] is False


def test_add_with_test_keeps_nothing_when_the_source_is_unreachable(
    capsys: pytest.CaptureFixture[str], shop_db: Path, tmp_path: Path
) -> None:
    code, out, _ = run(capsys, "add", "shop", f"sqlite:///{shop_db}", "--test")
    assert code == 0 and "connection ok in" in out and "ms" in out
    code, _, err = run(capsys, "add", "broken", f"sqlite:///{tmp_path / 'no' / 'x.db'}", "--test")
    assert code == 2 and "'broken' was not added" in err
    assert [s["name"] for s in json.loads(run(capsys, "list", "--json")[1])] == ["shop"]


def test_inspect_lists_tables_columns_types_and_rows(
    capsys: pytest.CaptureFixture[str], shop_db: Path
) -> None:
    run(capsys, "add", "shop", f"sqlite:///{shop_db}")
    code, out, _ = run(capsys, "inspect", "shop")
    assert code == 0
    for text in ("orders", "customers", "customer", "amount", "table", "column", "type"):
        assert text in out

    code, out, _ = run(capsys, "inspect", "shop", "--json")
    data = json.loads(out)
    assert code == 0
    assert set(data) == {"name", "kind", "url", "tables"}
    tables = {t["name"]: t for t in data["tables"]}
    assert {"orders", "customers"} <= set(tables)
    assert set(tables["orders"]) == {"name", "rows", "columns", "extra"}
    assert [c["name"] for c in tables["orders"]["columns"]] == ["id", "customer", "amount"]
    assert set(tables["orders"]["columns"][0]) == {"name", "type", "nullable"}
    assert tables["customers"]["columns"][0]["nullable"] is False
    assert tables["orders"]["rows"] in (None, 2)


@pytest.mark.parametrize("action", ["test", "inspect", "remove"])
def test_unknown_names_suggest_the_closest(
    capsys: pytest.CaptureFixture[str], shop_db: Path, action: str
) -> None:
    run(capsys, "add", "shop", f"sqlite:///{shop_db}")
    code, _, err = run(capsys, action, "shpo")
    assert code == 2
    assert "no data source named 'shpo'" in err and "did you mean 'shop'" in err


@pytest.mark.postgres
def test_subprocess_end_to_end(postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """As a user types it: the installed command, its own process, the same store."""
    monkeypatch.setenv("SHOP_PASSWORD", SECRET)

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(BIN), "sources", *args], capture_output=True, text=True, timeout=60, env=os.environ
        )

    added = cli("add", "shop", postgres_url, "--secret", "password=env:SHOP_PASSWORD")
    assert added.returncode == 0, added.stderr
    listed = cli("list", "--json")
    assert listed.returncode == 0
    assert json.loads(listed.stdout)[0]["secrets"] == {"password": "env:SHOP_PASSWORD"}
    tested = cli("test", "shop", "--json")
    assert tested.returncode == 0 and json.loads(tested.stdout)["ok"] is True
    missing = cli("test", "nope")
    assert missing.returncode == 2 and "no data source named 'nope'" in missing.stderr
    assert all(SECRET not in p.stdout + p.stderr for p in (added, listed, tested, missing))
