"""The file connector: formats, options, bad lines, globs, fsspec URLs, atomic writes.

Every test reads and writes real files (under ``tmp_path``) or fsspec's real in-memory
file system; the crash test injects a fault into polars' writer (see there).
"""

from __future__ import annotations

import datetime as dt
import errno
import gzip
import os
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from pipeline_lab import Node, Pipeline
from pipeline_lab.components import get_component
from pipeline_lab.connectors import DataSourceConfig, open_connector, read, write
from pipeline_lab.connectors.files import FileConnector
from pipeline_lab.errors import ConnectorError
from pipeline_lab.lineage import DatasetRef
from pipeline_lab.lineage._datasets import DatasetUse


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Relative paths resolve against the working directory, as in a headless run."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PIPELINE_LAB_STORE", "off")


def _files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


# -- round trips -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "typed"),
    [
        pytest.param("t.csv", True, id="csv"),
        pytest.param("t.tsv", True, id="tsv"),
        pytest.param("t.ndjson", True, id="ndjson"),
        pytest.param("t.jsonl", True, id="jsonl"),
        pytest.param("t.json", True, id="json"),
        pytest.param("t.parquet", False, id="parquet"),
        pytest.param("t.csv.gz", True, id="csv-gzip"),
    ],
)
def test_round_trip_keeps_values_and_types(
    typed_frame: pl.DataFrame, tmp_path: Path, name: str, typed: bool
) -> None:
    if name.endswith(".gz"):
        tmp_path.joinpath(name).write_bytes(gzip.compress(typed_frame.write_csv().encode()))
    else:
        result = write(typed_frame, name, mode="replace")
        assert result.rows == 3
        assert result.dataset == DatasetRef("file", str(tmp_path / name))
    # Text formats do not carry types: the reader is told them, as a user would.
    options = {"schema": typed_frame.schema} if typed else {}
    assert_frame_equal(read(name, **options), typed_frame)


def test_tsv_is_tab_separated(typed_frame: pl.DataFrame, tmp_path: Path) -> None:
    write(typed_frame, "t.tsv", mode="replace")
    header = tmp_path.joinpath("t.tsv").read_text(encoding="utf-8").splitlines()[0]
    assert header.split("\t") == typed_frame.columns


def test_excel_round_trip_within_what_excel_holds(typed_frame: pl.DataFrame) -> None:
    write(typed_frame, "t.xlsx", mode="replace", sheet="données")
    got = read("t.xlsx", sheet="données", schema_overrides={"amount": pl.Decimal(10, 2)})
    # Excel keeps milliseconds and no time zone: aware times are written as UTC wall time.
    expected = typed_frame.with_columns(
        pl.col("ts").dt.cast_time_unit("ms"),
        pl.col("paris")
        .dt.convert_time_zone("UTC")
        .dt.replace_time_zone(None)
        .dt.cast_time_unit("ms"),
    )
    assert_frame_equal(got, expected)


# -- CSV options -------------------------------------------------------------------------------
CSV_OPTIONS = [
    pytest.param(
        b"a;b\n1;2,5\n3;-0,25\n",
        {"separator": ";", "decimal_comma": True},
        {"a": [1, 3], "b": [2.5, -0.25]},
        id="separator-decimal-comma",
    ),
    pytest.param(
        b"a|b\n1|x\n",
        {"delimiter": "|"},
        {"a": [1], "b": ["x"]},
        id="delimiter-alias",
    ),
    pytest.param(
        b"a,b\n1,'x, y'\n2,'it''s'\n",
        {"quote_char": "'"},
        {"a": [1, 2], "b": ["x, y", "it's"]},
        id="quote-char",
    ),
    pytest.param(
        b'a,b\n1,"x"\n',
        {"quote_char": None},
        {"a": [1], "b": ['"x"']},
        id="no-quoting",
    ),
    pytest.param(
        "a,b\n1,café\n2,Größe\n".encode("latin-1"),
        {"encoding": "latin-1"},
        {"a": [1, 2], "b": ["café", "Größe"]},
        id="encoding-latin-1",
    ),
    pytest.param(
        "a,b\n1,ok\n".encode("utf-16"),
        {"encoding": "utf-16"},
        {"a": [1], "b": ["ok"]},
        id="encoding-utf-16",
    ),
    pytest.param(
        b"a,b\n1,caf\xe9\n",
        {"encoding": "utf8-lossy"},
        {"a": [1], "b": ["caf\ufffd"]},
        id="encoding-utf8-lossy",
    ),
    pytest.param(
        b"1,x\n2,y\n",
        {"has_header": False},
        {"column_0": [1, 2], "column_1": ["x", "y"]},
        id="no-header",
    ),
    pytest.param(
        b"1,x\n",
        {"header": False, "new_columns": ["n", "s"]},
        {"n": [1], "s": ["x"]},
        id="header-alias-and-polars-option",
    ),
    pytest.param(
        b"exported 2024-01-01\nby someone\na,b\n1,x\n",
        {"skip_rows": 2},
        {"a": [1], "b": ["x"]},
        id="skip-rows",
    ),
    pytest.param(
        b"a,b\n1,NA\n-,y\n",
        {"null_values": ["NA", "-"]},
        {"a": [1, None], "b": [None, "y"]},
        id="null-values",
    ),
    pytest.param(
        b"# a comment\na,b\n1,x\n# another\n2,y\n",
        {"comment_prefix": "#"},
        {"a": [1, 2], "b": ["x", "y"]},
        id="comment-prefix",
    ),
    pytest.param(
        b"a,b\n1,2024-05-01\n",
        {"try_parse_dates": True},
        {"a": [1], "b": [dt.date(2024, 5, 1)]},
        id="try-parse-dates",
    ),
    pytest.param(
        b"a,b\n1,x\n2,y\n",
        {"schema_overrides": {"a": pl.Int8}, "columns": ["a"]},
        pl.DataFrame({"a": [1, 2]}, schema={"a": pl.Int8}),
        id="types-and-columns",
    ),
]


@pytest.mark.parametrize(("content", "options", "expected"), CSV_OPTIONS)
def test_csv_options(content: bytes, options: dict[str, Any], expected: Any) -> None:
    Path("in.txt").write_bytes(content)
    got = read("in.txt", format="csv", **options)
    assert_frame_equal(
        got, expected if isinstance(expected, pl.DataFrame) else pl.DataFrame(expected)
    )


def test_csv_write_options() -> None:
    frame = pl.DataFrame({"a": [1, None], "d": [dt.date(2024, 1, 31), None]})
    write(
        frame, "out.csv", mode="replace", separator=";", null_value="NULL", date_format="%d/%m/%Y"
    )
    assert Path("out.csv").read_text() == "a;d\n1;31/01/2024\nNULL;NULL\n"


def test_unknown_option_names_the_close_one() -> None:
    Path("in.csv").write_text("a\n1\n")
    with pytest.raises(ConnectorError, match="unknown option 'seperator'") as caught:
        read("in.csv", seperator=";")
    assert "did you mean 'separator'" in str(caught.value)


# -- bad lines ---------------------------------------------------------------------------------
BAD_CSV = [
    pytest.param(
        b"a,b\n1,x\n2,y,extra\n3,z\n", {}, 3, "3 fields where the header has 2", id="extra-field"
    ),
    pytest.param(
        b"a,b\n" + b"".join(b"%d,v\n" % i for i in range(300)) + b"oops,w\n",
        {},
        302,
        "'oops' in column 'a' does not parse as Int64",
        id="type-beyond-inference",
    ),
    pytest.param(
        b'a,b\n1,"two\nlines"\n2,"x"\n3,y,z\n',
        {},
        5,
        "3 fields",
        id="after-a-quoted-newline",
    ),
    pytest.param(
        b"title\n\na,b\n1,x\n2,y,z\n", {"skip_rows": 2}, 5, "3 fields", id="after-skipped-rows"
    ),
    pytest.param(
        "a,b\n1,é\n2,é,é\n".encode("latin-1"), {"encoding": "latin-1"}, 3, "3 fields", id="latin-1"
    ),
]


@pytest.mark.parametrize(("content", "options", "line", "reason"), BAD_CSV)
def test_bad_line_error_names_file_and_line(
    tmp_path: Path, content: bytes, options: dict[str, Any], line: int, reason: str
) -> None:
    Path("bad.csv").write_bytes(content)
    with pytest.raises(ConnectorError) as caught:
        read("bad.csv", **options)
    assert f"{tmp_path / 'bad.csv'}, line {line}: " in caught.value.message
    assert reason in caught.value.message
    assert "bad_lines='skip'" in (caught.value.hint or "")


@pytest.mark.parametrize(("content", "options", "line", "reason"), BAD_CSV)
def test_bad_lines_skipped(content: bytes, options: dict[str, Any], line: int, reason: str) -> None:
    Path("bad.csv").write_bytes(content)
    everything = read("bad.csv", **options, bad_lines="null")
    skipped = read("bad.csv", **options, bad_lines="skip")
    assert skipped.height == everything.height - 1
    assert skipped.schema == everything.schema


def test_bad_lines_as_nulls_keep_the_row() -> None:
    Path("bad.csv").write_bytes(b"a,b\n1,x\n2,y,extra\n" + b"3,z\n" * 200 + b"oops,w\n")
    got = read("bad.csv", bad_lines="null")
    assert got.height == 203
    assert got.row(1) == (2, "y")  # the extra field is dropped
    assert got.row(-1) == (None, "w")  # the bad value is null


def test_several_bad_lines_are_counted() -> None:
    Path("bad.csv").write_bytes(b"a,b\n1,x\n2,y,z\n3,z\n4,w,v\n5,u,t\n")
    with pytest.raises(ConnectorError, match=r"line 3: .* \(2 more bad lines: 5, 6\)"):
        read("bad.csv")


def test_bad_line_in_a_glob_names_its_file(tmp_path: Path) -> None:
    Path("part1.csv").write_bytes(b"a,b\n1,x\n")
    Path("part2.csv").write_bytes(b"a,b\n2,y\n3,z,extra\n")
    with pytest.raises(ConnectorError, match=r"part2\.csv, line 3: 3 fields"):
        read("part*.csv")
    got = read("part*.csv", bad_lines="skip", source_column="file")
    assert got.to_dict(as_series=False) == {
        "a": [1, 2],
        "b": ["x", "y"],
        "file": [str(tmp_path / "part1.csv"), str(tmp_path / "part2.csv")],
    }


def test_bad_line_found_when_a_lazy_scan_is_collected() -> None:
    Path("bad.csv").write_bytes(b"a,b\n1,x\n2,y,z\n")
    plan = FileConnector.at("bad.csv").scan()  # nothing is read yet: no error
    with pytest.raises(ConnectorError, match=r"bad\.csv, line 3"):
        plan.filter(pl.col("a") > 0).select("b").collect()
    skipping = FileConnector.at("bad.csv").scan(bad_lines="skip")
    assert skipping.filter(pl.col("a") > 0).select("b").collect()["b"].to_list() == ["x"]


@pytest.mark.parametrize(
    ("content", "line", "reason"),
    [
        pytest.param(b'{"a": 1}\n{"a": 2\n{"a": 3}\n', 2, "invalid JSON", id="invalid-json"),
        pytest.param(b'{"a": 1}\n\n[1, 2]\n{"a": 3}\n', 3, "a JSON list", id="not-a-record"),
    ],
)
def test_ndjson_bad_lines(tmp_path: Path, content: bytes, line: int, reason: str) -> None:
    Path("bad.ndjson").write_bytes(content)
    with pytest.raises(ConnectorError) as caught:
        read("bad.ndjson")
    assert f"{tmp_path / 'bad.ndjson'}, line {line}: {reason}" in caught.value.message
    assert read("bad.ndjson", bad_lines="skip")["a"].to_list() == [1, 3]


def test_ndjson_type_mismatch_names_the_line() -> None:
    lines = [b'{"a": %d}\n' % i for i in range(200)] + [b'{"a": "text"}\n']
    Path("bad.ndjson").write_bytes(b"".join(lines))
    with pytest.raises(ConnectorError, match=r"bad\.ndjson, line 201: ") as caught:
        read("bad.ndjson")
    assert "schema_overrides" in (caught.value.hint or "")


# -- nested JSON -------------------------------------------------------------------------------
NESTED = b'[{"id": 1, "who": {"name": "ana", "address": {"city": "Lyon"}}, "tags": ["x"]},\n {"id": 2, "who": null, "tags": []}]'


@pytest.mark.parametrize(
    ("options", "columns"),
    [
        pytest.param({}, ["id", "who", "tags"], id="nested"),
        pytest.param({"flatten": True}, ["id", "who.name", "who.address.city", "tags"], id="flat"),
        pytest.param(
            {"flatten": True, "separator": "_"},
            ["id", "who_name", "who_address_city", "tags"],
            id="flat-separator",
        ),
    ],
)
def test_json_flatten(options: dict[str, Any], columns: list[str]) -> None:
    Path("nested.json").write_bytes(NESTED)
    lines = b"\n".join(
        pl.read_json(NESTED).write_ndjson().encode().splitlines()
    )  # the same records as JSON lines
    Path("nested.ndjson").write_bytes(lines)
    for name in ("nested.json", "nested.ndjson"):
        got = read(name, **options)
        assert got.columns == columns
        if options:
            assert got.row(0)[:3] == (1, "ana", "Lyon")
            assert got.row(1)[:3] == (2, None, None)


def test_json_records_under_a_path() -> None:
    Path("page.json").write_text('{"data": {"items": [{"a": 1}, {"a": 2}]}, "next": null}')
    assert read("page.json", record_path="data.items")["a"].to_list() == [1, 2]
    with pytest.raises(ConnectorError, match="no key 'items'") as caught:
        read("page.json", record_path="items")
    assert "data, next" in (caught.value.hint or "")


# -- Parquet -----------------------------------------------------------------------------------
def test_parquet_prunes_columns_and_row_groups(tmp_path: Path) -> None:
    frame = pl.DataFrame({"id": range(10_000), "v": [i % 7 for i in range(10_000)], "s": "x"})
    write(frame, "big.parquet", mode="replace", row_group_size=1_000)
    got = read("big.parquet", columns=["id"], filter="id >= 9990")
    assert got["id"].to_list() == list(range(9990, 10_000))
    plan = FileConnector.at("big.parquet").scan().filter(pl.col("id") >= 9990).select("id")
    lines = plan.explain().splitlines()  # the filter and the projection are in the scan
    assert lines[:3] == [
        f"Parquet SCAN [{tmp_path / 'big.parquet'}]",
        "PROJECT 1/3 COLUMNS",
        'SELECTION: col("id") >= 9990',
    ]
    assert FileConnector.at("big.parquet").preview(limit=2)["id"].to_list() == [0, 1]


def test_guarded_csv_scan_keeps_pushdown() -> None:
    Path("t.csv").write_text("a,b,c\n1,x,0\n2,y,0\n")
    plan = FileConnector.at("t.csv").scan().filter(pl.col("a") >= 2).select("b")
    assert 'PYTHON SCAN []\n  PROJECT 2/3 COLUMNS\n  SELECTION: col("a") >= 2' in plan.explain()
    assert plan.collect()["b"].to_list() == ["y"]


def test_hive_partitioned_write_and_read(tmp_path: Path) -> None:
    frame = pl.DataFrame(
        {"region": ["eu", "us", "eu", None], "year": [2023, 2024, 2024, 2024], "v": [1, 2, 3, 4]}
    )
    write(frame, "sales", mode="replace", partition_by=["region", "year"])
    files = _files(tmp_path / "sales")
    assert [f.rsplit("/", 1)[0] for f in files] == [
        "region=__HIVE_DEFAULT_PARTITION__/year=2024",
        "region=eu/year=2023",
        "region=eu/year=2024",
        "region=us/year=2024",
    ]
    back = read("sales").sort("v")
    assert back.select("v", "region", "year").rows() == [
        (1, "eu", 2023),
        (2, "us", 2024),
        (3, "eu", 2024),
        (4, None, 2024),
    ]
    assert read("sales", filter="region = 'eu'")["v"].sort().to_list() == [1, 3]
    # append adds files; replace swaps the whole dataset
    write(frame.head(1), "sales", mode="append", partition_by=["region", "year"])
    assert read("sales").height == 5
    write(frame.head(2), "sales", mode="replace", partition_by=["region", "year"])
    assert read("sales").height == 2
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".")]  # no staging left behind


def test_partitioned_csv_reads_back_with_partition_columns() -> None:
    frame = pl.DataFrame({"k": ["a/b c", "x"], "day": [dt.date(2024, 1, 1)] * 2, "v": [1, 2]})
    write(frame, "ds", format="csv", mode="replace", partition_by=["k", "day"])
    back = read("ds").sort("v")
    assert back.select("v", "k", "day").rows() == [
        (1, "a/b c", dt.date(2024, 1, 1)),
        (2, "x", dt.date(2024, 1, 1)),
    ]


# -- Excel -------------------------------------------------------------------------------------
@pytest.fixture
def workbook(tmp_path: Path) -> Path:
    import xlsxwriter

    path = tmp_path / "book.xlsx"
    book = xlsxwriter.Workbook(path)
    first = book.add_worksheet("first")
    first.write_row(0, 0, ["a", "b"])
    first.write_row(1, 0, [1, "x"])
    sales = book.add_worksheet("Ventes 2024")
    sales.write(0, 0, "Report title")
    sales.write_row(2, 1, ["id", "name", "amount"])
    for i in range(5):
        sales.write_row(3 + i, 1, [i, f"n{i}", i * 1.5])
    sales.write_row(9, 1, ["total", None, 15])
    book.close()
    return path


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        pytest.param({}, {"a": [1], "b": ["x"]}, id="first-sheet"),
        pytest.param({"sheet": 0}, {"a": [1], "b": ["x"]}, id="sheet-index-0"),
        pytest.param(
            {"sheet": "Ventes 2024", "cell_range": "B3:D6"},
            {"id": [0, 1, 2], "name": ["n0", "n1", "n2"], "amount": [0.0, 1.5, 3.0]},
            id="sheet-name-range",
        ),
        pytest.param(
            {"sheet": 1, "cell_range": "B4:C5", "has_header": False},
            {"column_0": [0, 1], "column_1": ["n0", "n1"]},
            id="sheet-index-range-no-header",
        ),
        pytest.param(
            {"sheet": 1, "header_row": 2, "columns": ["id"], "n_rows": 2},
            {"id": [0, 1]},
            id="header-row",
        ),
    ],
)
def test_excel_sheets_and_ranges(workbook: Path, options: dict[str, Any], expected: Any) -> None:
    options = dict(options)
    if "n_rows" in options:
        options["read_options"] = {"n_rows": options.pop("n_rows")}
    got = read(str(workbook), **options)
    assert got.to_dict(as_series=False) == expected


# -- globs, missing files, close names ---------------------------------------------------------
def test_glob_reads_every_match_with_a_source_column(tmp_path: Path) -> None:
    for month in (2, 1, 3):
        Path(f"orders_2024-0{month}.csv").write_text(f"month,v\n{month},{month * 10}\n")
    got = read("orders_2024-*.csv", source_column="file")
    assert got["month"].to_list() == [1, 2, 3]  # files in name order
    assert got["file"].to_list() == [str(tmp_path / f"orders_2024-0{m}.csv") for m in (1, 2, 3)]


@pytest.mark.parametrize(
    ("target", "message", "close"),
    [
        pytest.param("ordres.csv", "no such file: {tmp}/ordres.csv", "'orders.csv'", id="typo"),
        pytest.param(
            "order_*.csv", "no file matches '{tmp}/order_*.csv'", "'orders.csv'", id="empty-glob"
        ),
        pytest.param(
            "dta/orders.csv",
            "no such file: {tmp}/dta/orders.csv (the folder {tmp}/dta does not exist)",
            "'data'",
            id="missing-folder",
        ),
    ],
)
def test_missing_files_name_the_closest(
    tmp_path: Path, target: str, message: str, close: str
) -> None:
    for name in ("orders.csv", "orders_old.csv", "customers.csv"):
        Path(name).write_text("a\n1\n")
    Path("data").mkdir()
    with pytest.raises(ConnectorError) as caught:
        read(target)
    assert caught.value.message == message.format(tmp=tmp_path)
    assert close in (caught.value.hint or "")
    assert caught.value.dataset == str(tmp_path / target)


def test_empty_folder_and_unknown_format(tmp_path: Path) -> None:
    Path("empty").mkdir()
    with pytest.raises(ConnectorError, match="holds no"):
        read("empty")
    Path("notes.dat").write_text("a\n")
    with pytest.raises(ConnectorError, match="cannot tell the format") as caught:
        read("notes.dat")
    assert "format=" in (caught.value.hint or "")


def test_glob_of_files_with_other_columns_names_the_file() -> None:
    Path("a.csv").write_text("x,y\n1,2\n")
    Path("b.csv").write_text("x,z,w\n1,2,3\n")
    with pytest.raises(ConnectorError, match=r"b\.csv has other columns than .*a\.csv"):
        read("*.csv")


# -- fsspec URLs -------------------------------------------------------------------------------
def test_memory_urls_read_write_glob_and_partitions(
    memory_root: str, typed_frame: pl.DataFrame
) -> None:
    result = write(typed_frame, f"{memory_root}/t.parquet")
    assert result.dataset.namespace == "memory://pipeline-lab-tests"
    assert result.dataset.name.endswith("/t.parquet")
    assert_frame_equal(read(f"{memory_root}/t.parquet"), typed_frame)

    for i in (1, 2):
        write(pl.DataFrame({"i": [i]}), f"{memory_root}/parts/p{i}.csv")
    got = read(f"{memory_root}/parts/*.csv", source_column="file")
    assert got.to_dict(as_series=False) == {
        "i": [1, 2],
        "file": [f"{memory_root}/parts/p1.csv", f"{memory_root}/parts/p2.csv"],
    }
    write(pl.DataFrame({"i": [3]}), f"{memory_root}/parts/p1.csv", mode="append")
    assert read(f"{memory_root}/parts/p1.csv")["i"].to_list() == [1, 3]

    frame = pl.DataFrame({"k": ["a", "b", "a"], "v": [1, 2, 3]})
    write(frame, f"{memory_root}/ds", partition_by="k", mode="replace")
    assert read(f"{memory_root}/ds").sort("v").rows() == [(1, "a"), (2, "b"), (3, "a")]

    write(pl.DataFrame({"i": ["3,4"]}), f"{memory_root}/parts/p3.csv", quote_style="never")
    with pytest.raises(ConnectorError) as bad:
        read(f"{memory_root}/parts/*.csv")
    assert (
        bad.value.message == f"{memory_root}/parts/p3.csv, line 2: 2 fields where the header has 1"
    )

    with pytest.raises(ConnectorError, match="no such file") as caught:
        read(f"{memory_root}/t.parquett")
    assert "'t.parquet'" in (caught.value.hint or "")
    import fsspec

    leftovers = [p for p in fsspec.filesystem("memory").find(memory_root) if "/." in p]
    assert leftovers == []  # no temporary keys left


@pytest.mark.parametrize(
    ("url", "package"),
    [
        pytest.param("s3://bucket/a.parquet", "s3fs", id="s3"),
        pytest.param("gs://b/a.csv", "gcsfs", id="gs"),
    ],
)
def test_cloud_urls_without_their_extra_say_what_to_install(url: str, package: str) -> None:
    pytest.importorskip("fsspec")
    try:
        __import__(package)
    except ImportError:
        pass
    else:
        pytest.skip(f"{package} is installed")
    with pytest.raises(
        ConnectorError, match=f"URLs need the optional package '{package}'"
    ) as caught:
        read(url)
    assert caught.value.hint == f"run: pip install {package}"


# -- atomic writes and modes -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "writer", "mode"),
    [
        pytest.param("out.parquet", "write_parquet", "replace", id="parquet-replace"),
        pytest.param("out.csv", "write_csv", "replace", id="csv-replace"),
        pytest.param("out.csv", "write_csv", "append", id="csv-append"),
    ],
)
def test_a_crash_while_writing_leaves_the_previous_file_intact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, writer: str, mode: str
) -> None:
    write(pl.DataFrame({"a": [1, 2, 3]}), name, mode="replace")
    before = Path(name).read_bytes()
    real = getattr(pl.DataFrame, writer)

    # Fault injection, not a mock of the behaviour under test: polars' writer starts the
    # file for real, then the "process" dies half-way, as a full disk or a kill would.
    def crash(self: pl.DataFrame, file: Any = None, *args: Any, **kwargs: Any) -> Any:
        if file is None:  # rendering a header to compare, not writing
            return real(self, file, *args, **kwargs)
        real(self, file, *args, **kwargs)
        if isinstance(file, str | Path):
            data = Path(file).read_bytes()
            Path(file).write_bytes(data[: len(data) // 2])
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as patch:
        patch.setattr(pl.DataFrame, writer, crash)
        with pytest.raises(ConnectorError, match="No space left on device"):
            write(pl.DataFrame({"a": list(range(1000))}), name, mode=mode)
    assert Path(name).read_bytes() == before
    assert os.listdir(tmp_path) == [name]  # the half-written temporary file is gone
    assert read(name)["a"].to_list() == [1, 2, 3]


def test_a_crash_while_writing_a_dataset_leaves_the_previous_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    frame = pl.DataFrame({"k": ["a", "b", "c"], "v": [1, 2, 3]})
    write(frame, "ds", partition_by="k", mode="replace")
    before = _files(tmp_path / "ds")
    real, calls = pl.DataFrame.write_parquet, []

    # Fault injection: the second partition's write fails, as a full disk would.
    def crash(self: pl.DataFrame, file: Any, *args: Any, **kwargs: Any) -> None:
        calls.append(file)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        real(self, file, *args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(pl.DataFrame, "write_parquet", crash)
        for mode in ("replace", "append"):
            calls.clear()
            with pytest.raises(ConnectorError, match="No space left"):
                write(frame.with_columns(v=pl.col("v") * 10), "ds", partition_by="k", mode=mode)
    assert _files(tmp_path / "ds") == before
    assert read("ds").sort("v")["v"].to_list() == [1, 2, 3]
    assert os.listdir(tmp_path) == ["ds"]


def test_write_modes(tmp_path: Path) -> None:
    frame = pl.DataFrame({"a": [1], "b": ["x"]})
    write(frame, "out/deep/t.csv", mode="error")  # creates the folders
    with pytest.raises(ConnectorError, match="already exists") as caught:
        write(frame, "out/deep/t.csv", mode="error")
    assert "mode='replace'" in (caught.value.hint or "")
    write(frame, "out/deep/t.csv", mode="append")
    assert read("out/deep/t.csv").height == 2
    with pytest.raises(ConnectorError, match="columns differ"):
        write(frame.select("b", "a"), "out/deep/t.csv", mode="append")
    assert read("out/deep/t.csv").height == 2  # nothing appended

    write(frame, "t.ndjson", mode="append")
    write(frame, "t.ndjson", mode="append")
    assert read("t.ndjson").height == 2

    write(frame, "t.parquet", mode="append")  # absent: created
    with pytest.raises(ConnectorError, match="cannot append to an existing parquet file"):
        write(frame, "t.parquet", mode="append")
    with pytest.raises(ConnectorError, match="upserts on a key need a database"):
        write(frame, "t.parquet", mode="upsert", key="a")
    with pytest.raises(ConnectorError, match="a glob"):
        write(frame, "*.parquet", mode="replace")


def test_appending_after_a_last_line_without_newline() -> None:
    Path("t.csv").write_text("a,b\n1,x")  # no final newline
    write(pl.DataFrame({"a": [2], "b": ["y"]}), "t.csv", mode="append")
    assert Path("t.csv").read_text() == "a,b\n1,x\n2,y\n"


def test_replace_keeps_the_file_permissions(tmp_path: Path) -> None:
    write(pl.DataFrame({"a": [1]}), "t.parquet", mode="replace")
    os.chmod("t.parquet", 0o640)
    write(pl.DataFrame({"a": [2]}), "t.parquet", mode="replace")
    assert os.stat("t.parquet").st_mode & 0o777 == 0o640


# -- the connector contract: datasets, test, inspect, managed sources --------------------------
def test_dataset_names_follow_openlineage(tmp_path: Path) -> None:
    assert FileConnector.at("a/b.csv").dataset() == DatasetRef("file", str(tmp_path / "a/b.csv"))
    assert FileConnector.at("file:///data/x.csv").dataset() == DatasetRef("file", "/data/x.csv")
    remote = FileConnector.at("memory://bucket/path/x.csv").dataset()
    assert remote == DatasetRef("memory://bucket", "path/x.csv")


def test_connection_test_and_inspect(tmp_path: Path, workbook: Path) -> None:
    write(pl.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]}), "lake/orders.parquet")
    write(pl.DataFrame({"k": ["a", "b"], "v": [1, 2]}), "lake/events", partition_by=["k"])
    Path("lake/people.csv").write_text("name,age\nana,31\n")
    Path("lake/README.md").write_text("not data")
    os.replace(workbook, "lake/book.xlsx")

    lake = open_connector(DataSourceConfig(kind="file", url=str(tmp_path / "lake")))
    assert lake.test().ok
    tables = {t.name: t for t in lake.inspect()}
    assert sorted(tables) == ["book.xlsx", "events", "orders.parquet", "people.csv"]
    orders = tables["orders.parquet"]
    assert [(c.name, c.type) for c in orders.columns] == [("a", "Int64"), ("b", "String")]
    assert orders.rows == 3  # from the Parquet footer
    assert tables["people.csv"].rows is None  # not cheap for CSV
    assert [c.name for c in tables["events"].columns] == ["v", "k"]
    assert tables["events"].rows == 2
    assert tables["events"].extra["files"] == 2
    assert tables["book.xlsx"].extra["sheets"] == ["first", "Ventes 2024"]
    # a managed folder source reads its files by name, with its options as defaults
    people = lake.read(table="people.csv")
    assert people.to_dict(as_series=False) == {"name": ["ana"], "age": [31]}

    failed = FileConnector.at("lake/nope.csv").test()
    assert not failed.ok
    assert "no such file or folder" in failed.message
    assert "lake" in failed.message


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        pytest.param(TimeoutError("read timed out"), True, id="timeout"),
        pytest.param(ConnectionResetError("reset by peer"), True, id="reset"),
        pytest.param(OSError(errno.EBUSY, "busy"), True, id="busy"),
        pytest.param(FileNotFoundError(errno.ENOENT, "gone"), False, id="missing"),
        pytest.param(PermissionError(errno.EACCES, "denied"), False, id="denied"),
    ],
)
def test_which_errors_a_retry_may_fix(error: BaseException, transient: bool) -> None:
    assert FileConnector.at("x.csv").is_transient(error) is transient


def test_files_take_no_query() -> None:
    Path("t.csv").write_text("a\n1\n")
    with pytest.raises(ConnectorError, match="files take no query"):
        read("t.csv", query="SELECT 1")


def test_managed_source_options_are_defaults() -> None:
    Path("in.csv").write_text("a;b\n1;2\n")
    config = DataSourceConfig(
        kind="file", url="in.csv", options={"separator": ";", "write_options": {"separator": "|"}}
    )
    connector = FileConnector(config)
    assert connector.read().columns == ["a", "b"]
    connector.write(pl.DataFrame({"a": [3], "b": [4]}), mode="replace")
    assert Path("in.csv").read_text() == "a|b\n3|4\n"


# -- components in a pipeline ------------------------------------------------------------------
def _run(pipeline: Pipeline) -> Any:
    result = pipeline.run(hooks=[])
    failed = {n: r.error for n, r in result.node_runs.items() if r.error}
    return result, failed


def test_source_filter_sink_pipeline(tmp_path: Path) -> None:
    Path("orders.csv").write_text("id;amount;status\n1;10,5;paid\n2;3,0;open\n3;7,25;paid\n")
    p = Pipeline("files")
    p.add(
        Node(
            "raw",
            component="read_csv",
            params={"path": "orders.csv", "separator": ";", "decimal_comma": True},
        )
    )
    p.add(Node("paid", component="filter", params={"input": "raw", "condition": "status = 'paid'"}))
    p.add(
        Node("out", component="write_parquet", params={"input": "paid", "path": "out/paid.parquet"})
    )
    result, failed = _run(p)
    assert failed == {}
    written = pl.read_parquet(tmp_path / "out/paid.parquet")
    assert written.to_dict(as_series=False) == {
        "id": [1, 3],
        "amount": [10.5, 7.25],
        "status": ["paid", "paid"],
    }
    assert result.outputs["out"].to_dict(as_series=False) == {
        "path": [str(tmp_path / "out/paid.parquet")],
        "rows": [2],
        "mode": ["replace"],
    }
    source = DatasetRef("file", str(tmp_path / "orders.csv"))
    sink = DatasetRef("file", str(tmp_path / "out/paid.parquet"))
    assert result.node_runs["raw"].datasets == (DatasetUse(source, "input"),)
    assert result.node_runs["out"].datasets == (DatasetUse(sink, "output"),)
    assert result.node_runs["raw"].datasets[0].dataset.facets["schema"]["amount"] == "Float64"


def test_a_bad_line_fails_the_sink_and_writes_nothing(tmp_path: Path) -> None:
    Path("orders.csv").write_text("id,amount\n1,10\n2,20,oops\n")
    write(pl.DataFrame({"id": [0]}), "out.parquet")
    before = Path("out.parquet").read_bytes()
    p = Pipeline("bad")
    p.add(Node("raw", component="read_csv", params={"path": "orders.csv"}))
    p.add(Node("out", component="write_parquet", params={"input": "raw", "path": "out.parquet"}))
    _, failed = _run(p)
    assert list(failed) == ["out"]  # the lazy read runs in the sink's plan
    assert f"{tmp_path / 'orders.csv'}, line 3: 3 fields" in failed["out"]
    assert Path("out.parquet").read_bytes() == before


def test_more_sources_and_sinks(tmp_path: Path, workbook: Path) -> None:
    Path("events.ndjson").write_text(
        '{"id": 1, "user": {"name": "ana"}}\n{"id": 2, "user": {"name": "bo"}}\n'
    )
    write(pl.DataFrame({"id": [1, 2], "v": [1.5, 2.5], "w": [0, 0]}), "facts.parquet")
    p = Pipeline("more")
    p.add(Node("events", component="read_json", params={"path": "events.ndjson", "flatten": True}))
    p.add(
        Node(
            "facts",
            component="read_parquet",
            params={"path": "facts.parquet", "columns": ["id", "v"]},
        )
    )
    p.add(
        Node(
            "sheet",
            component="read_excel",
            params={"path": str(workbook), "sheet": "Ventes 2024", "cell_range": "B3:D5"},
        )
    )
    p.add(Node("joined", component="join", params={"left": "events", "right": "facts", "on": "id"}))
    p.add(
        Node(
            "csv",
            component="write_csv",
            params={"input": "joined", "path": "out/j.csv", "separator": ";"},
        )
    )
    p.add(Node("lines", component="write_json", params={"input": "sheet", "path": "out/s.jsonl"}))
    p.add(Node("doc", component="write_json", params={"input": "facts", "path": "out/f.json"}))
    result, failed = _run(p)
    assert failed == {}
    assert Path("out/j.csv").read_text() == "id;user.name;v\n1;ana;1.5\n2;bo;2.5\n"
    assert Path("out/s.jsonl").read_text().splitlines() == [
        '{"id":0,"name":"n0","amount":0.0}',
        '{"id":1,"name":"n1","amount":1.5}',
    ]
    assert pl.read_json(tmp_path / "out/f.json").columns == ["id", "v"]
    assert result.outputs["lines"]["rows"].to_list() == [2]


def test_sink_modes_and_partitions(tmp_path: Path) -> None:
    def pipeline(mode: str, **params: Any) -> Pipeline:
        p = Pipeline("sink")
        p.add(Node("raw", component="read_csv", params={"path": "in.csv"}))
        p.add(Node("out", component="write_csv", params={"input": "raw", "mode": mode, **params}))
        return p

    Path("in.csv").write_text("k,v\na,1\nb,2\n")
    assert _run(pipeline("append", path="log.csv"))[1] == {}
    assert _run(pipeline("append", path="log.csv"))[1] == {}
    assert read("log.csv").height == 4
    assert "already exists" in _run(pipeline("error", path="log.csv"))[1]["out"]
    assert _run(pipeline("replace", path="ds", partition_by="k"))[1] == {}
    assert _files(tmp_path / "ds")[0].startswith("k=a/part-")
    assert "partition_by" in _run(pipeline("replace", path="ds", partition_by="nope"))[1]["out"]


# -- generated code ----------------------------------------------------------------------------
def _run_code(code: str, names: dict[str, Any]) -> Any:
    from pipeline_lab.graph._analysis import compile_cell

    cell = compile_cell(code, filename="<to_code>")
    namespace = {"pl": pl, **names}
    exec(cell.body, namespace)  # our generated code, not user input
    assert cell.last is not None
    return eval(cell.last, namespace)


@pytest.mark.parametrize(
    ("kind", "params", "polars"),
    [
        pytest.param(
            "read_csv",
            {"path": "in.csv", "separator": ";", "null_values": "NA"},
            "pl.scan_csv(",
            id="csv",
        ),
        pytest.param(
            "read_csv",
            {
                "path": "in.csv",
                "separator": ";",
                "schema_overrides": {"b": "decimal(5,1)"},
                "columns": ["b"],
            },
            "pl.scan_csv(",
            id="csv-types",
        ),
        pytest.param(
            "read_csv",
            {"path": "in.csv", "separator": ";", "bad_lines": "skip"},
            "read(",
            id="csv-skip",
        ),
        pytest.param(
            "read_csv",
            {"path": "in.csv", "separator": ";", "encoding": "latin-1"},
            "read(",
            id="csv-latin-1",
        ),
        pytest.param("read_json", {"path": "in.ndjson"}, "pl.scan_ndjson(", id="ndjson"),
        pytest.param(
            "read_json", {"path": "in.ndjson", "flatten": True}, "read(", id="ndjson-flat"
        ),
        pytest.param("read_json", {"path": "in.json"}, "pl.read_json(", id="json"),
        pytest.param(
            "read_parquet",
            {"path": "in.parquet", "columns": "b"},
            "pl.scan_parquet(",
            id="parquet",
        ),
        pytest.param("read_parquet", {"path": "ds"}, "pl.scan_parquet(", id="parquet-dataset"),
        pytest.param(
            "read_excel",
            {"path": "in.xlsx", "sheet": 1, "cell_range": "A1:B2"},
            "pl.read_excel(",
            id="excel",
        ),
    ],
)
def test_source_code_reads_the_same(kind: str, params: dict[str, Any], polars: str) -> None:
    frame = pl.DataFrame({"a": [1, None], "b": [2.5, 3.0], "n": [{"x": 1}, {"x": 2}]})
    flat = frame.drop("n")
    Path("in.csv").write_text("a;b\n1;2.5\nNA;3\n", encoding="latin-1")
    frame.write_ndjson("in.ndjson")
    frame.write_json("in.json")
    flat.write_parquet("in.parquet")
    write(flat.with_columns(k=pl.lit("z")), "ds", partition_by="k")
    import xlsxwriter

    book = xlsxwriter.Workbook("in.xlsx")
    book.add_worksheet("first")
    second = book.add_worksheet("second")
    second.write_row(0, 0, ["a", "b"])
    second.write_row(1, 0, [1, 2.5])
    second.write_row(2, 0, [9, 9.5])
    book.close()

    instance = get_component(kind)(params, node="n")
    code = instance.to_code()
    assert polars in code
    built = instance.build({}).collect()
    assert_frame_equal(_run_code(code, {}).collect(), built)


def test_sink_code_writes_the_same(tmp_path: Path) -> None:
    frame = pl.DataFrame({"k": ["a", "b"], "v": [1, 2]})
    cases = [
        ("write_parquet", {"path": "p.parquet", "compression": "snappy"}, "write_parquet("),
        ("write_parquet", {"path": "pds", "partition_by": ["k"]}, "write_parquet("),
        ("write_csv", {"path": "c.csv", "separator": ";"}, "write_csv("),
        ("write_csv", {"path": "c2.csv", "mode": "append"}, "write("),
        ("write_json", {"path": "j.ndjson"}, "write_ndjson("),
    ]
    for kind, params, call in cases:
        instance = get_component(kind)({"input": "x", **params}, node="n")
        code = instance.to_code()
        assert call in code
        _run_code(code, {"x": frame.lazy()})
        options = {"separator": params["separator"]} if "separator" in params else {}
        by_code = read(params["path"], **options).sort("v")
        assert_frame_equal(by_code, frame, check_column_order=False)
        if params.get("mode") != "append":
            instance.finish(frame)
            by_sink = read(params["path"], **options).sort("v")
            assert_frame_equal(by_sink, by_code, check_column_order=False)


def test_files_are_replaced_by_default_and_tables_appended(tmp_path: Path) -> None:
    from pipeline_lab.connectors import read, write

    target = tmp_path / "out.parquet"
    assert write(pl.DataFrame({"a": [1, 2]}), str(target)).mode == "replace"
    write(pl.DataFrame({"a": [3]}), str(target))  # again: no mode needed
    assert read(str(target))["a"].to_list() == [3]
    db = f"sqlite:///{tmp_path / 'x.db'}"
    write(pl.DataFrame({"a": [1]}), db, table="t")
    assert write(pl.DataFrame({"a": [2]}), db, table="t").mode == "append"
    assert read(db, table="t")["a"].to_list() == [1, 2]


def test_a_filter_option_cannot_read_another_file(tmp_path: Path) -> None:
    """filter= is SQL polars plans as it parses: a subquery reading a file is refused first."""
    from pipeline_lab.connectors import read

    secret = tmp_path / "secret.csv"
    secret.write_text("token\nnever-shown\n")
    data = tmp_path / "data.csv"
    data.write_text("a\n1\n2\n")
    with pytest.raises(ConnectorError, match="filter") as info:
        read(str(data), filter=f"a IN (SELECT token FROM read_csv('{secret}'))")
    assert "never-shown" not in str(info.value)
    assert read(str(data), filter="a > 1")["a"].to_list() == [2]
