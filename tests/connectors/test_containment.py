"""A managed file source holds its folder: ``table=`` never leads out of it, nor does a link.

And a bare name that is both a managed source and a file here is refused, naming both.
Every case runs on real files under ``tmp_path`` (with real symbolic links) or on fsspec's
in-memory file system.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import polars as pl
import pytest

import pipeline_lab
from pipeline_lab.connectors import ConnectionManager, DataSourceConfig, read, write
from pipeline_lab.connectors.files._locations import Location
from pipeline_lab.errors import ConnectorError

ROWS = pl.DataFrame({"id": [1, 2], "v": ["a", "b"]})
SECRET_ROWS = pl.DataFrame({"secret": ["outside the folder"]})


class Sources:
    """A catalog of named sources (what the store keeps), for ``read(..., catalog=)``."""

    def __init__(self, **urls: str) -> None:
        self.sources = {
            name: DataSourceConfig("file", url, name=name) for name, url in urls.items()
        }

    def get_source(self, name: str) -> DataSourceConfig | None:
        return self.sources.get(name)

    def source_names(self) -> list[str]:
        return sorted(self.sources)

    def add(self, config: DataSourceConfig) -> DataSourceConfig:
        self.sources[config.name or ""] = config
        return config

    update = add

    def remove(self, name: str) -> None:
        del self.sources[name]

    def list(self) -> list[DataSourceConfig]:
        return [self.sources[n] for n in sorted(self.sources)]


@pytest.fixture
def layout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``files/`` (the source's folder) beside ``outside/``, with links from one to the other;
    the working directory is ``work/`` beside them.

    files/in.csv, files/sub/deep.csv, files/inner.csv -> files/in.csv (a link that stays),
    files/escape.csv -> outside/secret.csv, files/door -> outside/ (a folder link).
    """
    (tmp_path / "work").mkdir()
    monkeypatch.chdir(tmp_path / "work")
    files, outside = tmp_path / "files", tmp_path / "outside"
    (files / "sub").mkdir(parents=True)
    outside.mkdir()
    ROWS.write_csv(files / "in.csv")
    ROWS.write_csv(files / "sub" / "deep.csv")
    SECRET_ROWS.write_csv(outside / "secret.csv")
    (files / "inner.csv").symlink_to(files / "in.csv")
    (files / "escape.csv").symlink_to(outside / "secret.csv")
    (files / "door").symlink_to(outside, target_is_directory=True)
    return tmp_path


@pytest.fixture
def catalog(layout: Path) -> Sources:
    return Sources(files=str(layout / "files"))


def outside_files(layout: Path) -> list[str]:
    return sorted(p.name for p in (layout / "outside").iterdir())


ESCAPES = [
    pytest.param("../outside/secret.csv", id="dot-dot"),
    pytest.param("../../outside/secret.csv", id="dot-dot-twice"),
    pytest.param("sub/../../outside/secret.csv", id="dot-dot-after-a-folder"),
    pytest.param("{root}/outside/secret.csv", id="absolute-path"),
    pytest.param("escape.csv", id="link-to-a-file-outside"),
    pytest.param("door/secret.csv", id="link-to-a-folder-outside"),
    pytest.param("../outside/*.csv", id="glob-outside"),
    pytest.param("door/*.csv", id="glob-through-a-folder-link"),
]


@pytest.mark.parametrize("table", ESCAPES)
def test_reads_stay_inside_the_folder(layout: Path, catalog: Sources, table: str) -> None:
    table = table.format(root=layout)
    with pytest.raises(ConnectorError, match="outside the folder of data source 'files'") as info:
        read("files", table=table, catalog=catalog)
    assert str(layout / "files") in info.value.message
    assert "name a file or folder inside it" in (info.value.hint or "")
    with pytest.raises(ConnectorError, match="outside the folder"):
        ConnectionManager(catalog).preview("files", table=table)


@pytest.mark.parametrize("table", [p for p in ESCAPES if "*" not in p.values[0]])
def test_writes_stay_inside_the_folder(layout: Path, catalog: Sources, table: str) -> None:
    table = table.format(root=layout).replace("secret.csv", "written.csv")
    with pytest.raises(ConnectorError, match="outside the folder of data source 'files'"):
        write(ROWS, "files", table=table, catalog=catalog)
    for mode in ("append", "replace"):
        with pytest.raises(ConnectorError, match="outside the folder"):
            write(ROWS, "files", table=table, mode=mode, partition_by="v", catalog=catalog)
    assert outside_files(layout) == ["secret.csv"]
    # The link itself is not replaced by a file either: it still leads where it did.
    assert os.readlink(layout / "files" / "escape.csv") == str(layout / "outside" / "secret.csv")


@pytest.mark.parametrize(
    ("table", "rows"),
    [
        pytest.param("in.csv", 2, id="a-file"),
        pytest.param("sub/deep.csv", 2, id="a-file-in-a-folder"),
        pytest.param("sub/../in.csv", 2, id="dot-dot-that-stays"),
        pytest.param("{root}/files/in.csv", 2, id="absolute-path-inside"),
        pytest.param("inner.csv", 2, id="link-that-stays-inside"),
        pytest.param("sub/*.csv", 2, id="glob-inside"),
    ],
)
def test_paths_inside_the_folder_are_read(
    layout: Path, catalog: Sources, table: str, rows: int
) -> None:
    assert read("files", table=table.format(root=layout), catalog=catalog).height == rows


def test_a_glob_or_the_whole_folder_refuses_a_link_out(layout: Path, catalog: Sources) -> None:
    with pytest.raises(ConnectorError, match=r"escape\.csv leads to .*outside") as info:
        read("files", table="*.csv", catalog=catalog)
    assert "is not followed" in info.value.message
    assert "secret" not in str(read("files", table="in.csv", catalog=catalog).columns)
    catalog.sources["files"] = DataSourceConfig(
        "file", str(layout / "files"), name="files", options={"format": "csv"}
    )
    with pytest.raises(ConnectorError, match=r"escape\.csv leads to"):
        read("files", catalog=catalog)  # the folder itself, as a dataset
    globbed = Sources(csvs=str(layout / "files" / "*.csv"))
    with pytest.raises(ConnectorError, match=r"escape\.csv leads to"):
        read("csvs", catalog=globbed)


def test_writes_inside_the_folder_work(layout: Path, catalog: Sources) -> None:
    write(ROWS, "files", table="new/out.parquet", catalog=catalog)
    write(ROWS, "files", table="ds", partition_by="v", catalog=catalog)
    assert read("files", table="new/out.parquet", catalog=catalog).height == 2
    assert read("files", table="ds", catalog=catalog).height == 2
    assert outside_files(layout) == ["secret.csv"]


WRITERS = {
    "csv": lambda frame, path: frame.write_csv(path),
    "ndjson": lambda frame, path: frame.write_ndjson(path),
    "parquet": lambda frame, path: frame.write_parquet(path),
}


@pytest.mark.parametrize("fmt", sorted(WRITERS))
def test_a_file_named_like_a_pattern_is_read_as_itself(tmp_path: Path, fmt: str) -> None:
    """Polars expands ``*`` and ``[`` in the paths it is given: a file's own name must not turn
    into a pattern that reaches other files (a hidden link out of the folder among them)."""
    folder, outside = tmp_path / "src", tmp_path / "outside"
    folder.mkdir()
    outside.mkdir()
    write_as = WRITERS[fmt]
    write_as(pl.DataFrame({"v": ["harmless"]}), folder / f"a*.{fmt}")
    write_as(SECRET_ROWS.rename({"secret": "v"}), outside / f"secret.{fmt}")
    (folder / f"ab.{fmt}").symlink_to(outside / f"secret.{fmt}")
    (folder / f".x.{fmt}").symlink_to(outside / f"secret.{fmt}")
    catalog = Sources(src=str(folder))
    assert read("src", table=f"a[*].{fmt}", catalog=catalog)["v"].to_list() == ["harmless"]
    assert read("src", table=f"a*.{fmt}", catalog=catalog)["v"].to_list() == ["harmless"]
    (folder / f"ab.{fmt}").unlink()  # now the folder read lists a*.<fmt> only (.x is hidden)
    assert read("src", catalog=catalog)["v"].to_list() == ["harmless"]


def test_names_with_brackets_are_files_not_patterns(tmp_path: Path) -> None:
    folder = tmp_path / "sales"
    folder.mkdir()
    pl.DataFrame({"v": [1]}).write_csv(folder / "sales [2024].csv")
    pl.DataFrame({"v": [2]}).write_csv(folder / "other.csv")
    assert sorted(read(str(folder))["v"].to_list()) == [1, 2]
    assert read(str(folder / "sales [2024].csv"))["v"].to_list() == [1]
    write(pl.DataFrame({"v": [3]}), str(folder / "report [final].csv"))
    assert read(str(folder / "report [final].csv"))["v"].to_list() == [3]


def test_a_partitioned_append_does_not_write_through_a_link_out(
    layout: Path, catalog: Sources
) -> None:
    (layout / "files" / "ds").mkdir()
    (layout / "files" / "ds" / "v=a").symlink_to(layout / "outside", target_is_directory=True)
    frame = pl.DataFrame({"v": ["a", "b"], "n": [1, 2]})
    with pytest.raises(ConnectorError, match=r"ds/v=a leads to .*outside") as info:
        write(frame, "files", table="ds", partition_by="v", mode="append", catalog=catalog)
    assert "not written through" in info.value.message
    assert outside_files(layout) == ["secret.csv"]
    assert not (layout / "files" / "ds" / "v=b").exists()  # nothing half-written either


def test_inspect_does_not_list_links_out(layout: Path, catalog: Sources) -> None:
    names = {t.name for t in ConnectionManager(catalog).inspect("files")}
    assert names == {"in.csv", "inner.csv", "sub"}


def test_a_partition_key_cannot_climb_out(layout: Path, catalog: Sources) -> None:
    frame = pl.DataFrame({"../../outside/x": ["a"], "v": [1]})
    with pytest.raises(ConnectorError, match="cannot name a folder level"):
        write(frame, "files", table="ds", partition_by="../../outside/x", catalog=catalog)
    with pytest.raises(ConnectorError, match="cannot name a folder level"):
        write(frame, str(layout / "adhoc"), partition_by="../../outside/x")
    assert outside_files(layout) == ["secret.csv"]
    assert not list(layout.glob("**/x=a"))


def test_an_ad_hoc_folder_holds_its_table_too(layout: Path) -> None:
    """``table=`` is a path inside the source, named or not."""
    with pytest.raises(ConnectorError, match="outside the folder of the source"):
        read(str(layout / "files"), table="../outside/secret.csv")
    assert read(str(layout / "files"), table="sub/deep.csv").height == 2


def test_a_url_is_not_a_table(layout: Path, catalog: Sources) -> None:
    with pytest.raises(ConnectorError, match="is a URL; table= names a file or folder"):
        read("files", table=f"file://{layout}/outside/secret.csv", catalog=catalog)


# -- fsspec URLs: a managed source's prefix ----------------------------------------------------
def test_a_memory_source_stays_under_its_prefix(memory_root: str) -> None:
    write(SECRET_ROWS, f"{memory_root}/other/secret.csv")
    write(ROWS, f"{memory_root}/lake/in.csv")
    catalog = Sources(lake=f"{memory_root}/lake")
    assert read("lake", table="in.csv", catalog=catalog).height == 2
    assert read("lake", table="/in.csv", catalog=catalog).height == 2  # below the prefix
    for table in ("../other/secret.csv", "sub/../../other/secret.csv", "../other/*.csv"):
        with pytest.raises(ConnectorError, match="outside the folder of data source 'lake'"):
            read("lake", table=table, catalog=catalog)
    with pytest.raises(ConnectorError, match="outside the folder"):
        write(ROWS, "lake", table="../other/written.csv", catalog=catalog)
    assert read(f"{memory_root}/other/*.csv", source_column="f")["f"].to_list() == [
        f"{memory_root}/other/secret.csv"
    ]


@pytest.mark.parametrize(
    ("root", "table", "inside"),
    [
        pytest.param("bucket/prefix", "x.parquet", True, id="below"),
        pytest.param("bucket/prefix", "a/../x.parquet", True, id="dot-dot-that-stays"),
        pytest.param("bucket/prefix", "../x.parquet", False, id="dot-dot"),
        pytest.param("bucket/prefix", "../prefix-other/x.parquet", False, id="sibling-prefix"),
        pytest.param("bucket/prefix", "/x.parquet", True, id="leading-slash-is-below"),
        pytest.param("bucket/prefix", "../../other-bucket/x", False, id="another-bucket"),
    ],
)
def test_object_store_prefixes(root: str, table: str, inside: bool) -> None:
    """``s3://bucket/prefix`` (no s3fs needed: containment is a matter of paths there)."""
    location = Location("s3", root).within()
    assert (location.join(table).escapes() is None) is inside


# -- a name that is both a managed source and a file here --------------------------------------
@pytest.mark.parametrize("kind", ["file", "folder"])
def test_a_name_that_is_a_source_and_a_file_is_refused(
    layout: Path, catalog: Sources, kind: str
) -> None:
    collision = layout / "work" / "orders"  # a file or folder named like the source, here
    if kind == "file":
        ROWS.write_csv(collision)
    else:
        collision.mkdir()
        ROWS.write_csv(collision / "x.csv")
    sources = Sources(orders=str(layout / "files" / "in.csv"))
    calls: list[Any] = [
        lambda: read("orders", catalog=sources, format="csv"),
        lambda: write(ROWS, "orders", catalog=sources, format="csv"),
    ]
    for call in calls:
        with pytest.raises(ConnectorError) as info:
            call()
        message = str(info.value)
        assert f"the managed data source 'orders' (file: {layout / 'files' / 'in.csv'})" in message
        assert f"the {kind} {collision}" in message
        assert f"write ./orders for the {kind}" in (info.value.hint or "")
    assert read("./orders", format="csv").equals(ROWS)  # the file or folder, as the hint says
    os.replace(collision, layout / "elsewhere")
    assert read("orders", catalog=sources).equals(ROWS)  # the source, once alone


def test_the_store_s_sources_collide_with_files_too(
    layout: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipeline_lab.connectors import source_config
    from pipeline_lab.store import StoreSourceCatalog

    monkeypatch.delenv("PIPELINE_LAB_STORE", raising=False)
    ConnectionManager(StoreSourceCatalog()).add(source_config("files", str(layout / "files")))
    assert pipeline_lab.read("files", table="in.csv").equals(ROWS)
    os.symlink(layout / "outside", "files")  # now another folder named files is here too
    with pytest.raises(ConnectorError, match="is both the managed data source 'files'"):
        pipeline_lab.read("files", table="in.csv")


def test_the_source_s_own_folder_seen_from_its_parent_is_no_collision(
    layout: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Working beside a file source's folder: ``files`` here is that source's own folder."""
    from pipeline_lab.connectors import source_config
    from pipeline_lab.store import StoreSourceCatalog

    monkeypatch.delenv("PIPELINE_LAB_STORE", raising=False)
    ConnectionManager(StoreSourceCatalog()).add(source_config("files", str(layout / "files")))
    monkeypatch.chdir(layout)
    assert pipeline_lab.read("files", table="in.csv").equals(ROWS)
    pipeline_lab.write(ROWS, "files", table="copy.csv")
    assert (layout / "files" / "copy.csv").exists()
    os.symlink(layout / "files", layout / "work" / "files")  # a link to it: the same folder
    monkeypatch.chdir(layout / "work")
    assert pipeline_lab.read("files", table="copy.csv").equals(ROWS)
