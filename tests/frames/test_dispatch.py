"""One place that knows polars, pandas and Arrow: shape, columns and conversions."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

from pipeline_lab import PipelineLabError
from pipeline_lab.frames import columns, is_frame, shape, to_pandas, to_polars

DATA = {"a": [1, 2, 3], "b": ["x", "y", "z"]}

FRAMES = [
    pytest.param(pl.DataFrame(DATA), (3, 2), ["a", "b"], id="polars"),
    pytest.param(pd.DataFrame(DATA), (3, 2), ["a", "b"], id="pandas"),
    pytest.param(pa.table(DATA), (3, 2), ["a", "b"], id="arrow"),
    pytest.param(pl.Series("a", [1, 2, 3]), (3, 1), ["a"], id="polars-series"),
    pytest.param(pd.Series([1, 2, 3], name="a"), (3, 1), ["a"], id="pandas-series"),
]


@pytest.mark.parametrize(("value", "dims", "names"), FRAMES)
def test_shape_and_columns(value: object, dims: tuple[int, int], names: list[str]) -> None:
    assert shape(value) == dims
    assert columns(value) == names
    assert is_frame(value)


@pytest.mark.parametrize(("value", "dims", "names"), FRAMES)
def test_conversions_keep_the_data(value: object, dims: tuple[int, int], names: list[str]) -> None:
    as_polars = to_polars(value)
    assert isinstance(as_polars, pl.DataFrame)
    assert as_polars.columns == names
    assert as_polars.shape == dims
    assert as_polars["a"].to_list() == [1, 2, 3]
    as_pandas = to_pandas(value)
    assert isinstance(as_pandas, pd.DataFrame)
    assert list(as_pandas.columns) == names
    assert as_pandas["a"].tolist() == [1, 2, 3]


def test_lazy_frame_is_a_frame_of_unknown_length() -> None:
    lazy = pl.LazyFrame(DATA).filter(pl.col("a") > 1)
    assert shape(lazy) is None  # knowing the rows means running the query
    assert columns(lazy) == ["a", "b"]
    assert is_frame(lazy)
    assert to_polars(lazy).to_dict(as_series=False) == {"a": [2, 3], "b": ["y", "z"]}
    assert to_pandas(lazy)["a"].tolist() == [2, 3]


def test_same_frame_is_returned_without_copying() -> None:
    polars_frame = pl.DataFrame(DATA)
    pandas_frame = pd.DataFrame(DATA)
    assert to_polars(polars_frame) is polars_frame
    assert to_pandas(pandas_frame) is pandas_frame


def test_polars_to_pandas_and_back_keeps_nulls() -> None:
    frame = pl.DataFrame({"x": [1, None, 3], "s": ["a", None, "c"]})
    back = to_polars(to_pandas(frame))
    assert back["x"].to_list() == [1, None, 3]
    assert back["s"].to_list() == ["a", None, "c"]


@pytest.mark.parametrize(
    "value",
    [
        pytest.param([1, 2, 3], id="list"),
        pytest.param({"a": [1]}, id="dict"),
        pytest.param(None, id="none"),
        pytest.param(42, id="int"),
        pytest.param("text", id="str"),
    ],
)
def test_non_frames(value: object) -> None:
    assert shape(value) is None
    assert columns(value) is None
    assert not is_frame(value)
    type_name = type(value).__name__
    with pytest.raises(PipelineLabError, match=f"cannot convert a {type_name} to a polars"):
        to_polars(value)
    with pytest.raises(PipelineLabError, match=f"cannot convert a {type_name} to a pandas") as info:
        to_pandas(value)
    assert "return a polars or pandas DataFrame" in (info.value.hint or "")


def run_python(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_importing_pipeline_lab_imports_no_frame_library() -> None:
    out = run_python(
        """
        import sys
        import pipeline_lab, pipeline_lab.frames, pipeline_lab.quality, pipeline_lab.monitoring
        print('polars' in sys.modules, 'pandas' in sys.modules, 'pyarrow' in sys.modules)
        """
    )
    assert out == "False False False"


def test_a_subclass_from_another_package_is_still_a_frame() -> None:
    """The first frame seen may be a pandas subclass (a GeoDataFrame): it must still dispatch."""
    out = run_python(
        """
        import pandas as pd
        from pipeline_lab.frames import shape, to_polars

        class MyFrame(pd.DataFrame):
            pass

        MyFrame.__module__ = "otherpackage.frames"
        frame = MyFrame({"a": [1, 2]})
        print(shape(frame), to_polars(frame).columns)
        """
    )
    assert out == "(2, 1) ['a']"


def test_frames_seen_first_on_many_threads_at_once() -> None:
    """Nodes finishing together on the thread executor must all see their frames as frames."""
    out = run_python(
        """
        import importlib
        import threading
        import time
        import polars as pl
        from pipeline_lab.frames import shape

        real_import = importlib.import_module

        def slow_import(name, *args):
            if name.startswith("pipeline_lab.frames._"):
                time.sleep(0.2)  # widen the window in which other threads dispatch
            return real_import(name, *args)

        importlib.import_module = slow_import

        frame = pl.DataFrame({"a": [1, 2]})
        barrier = threading.Barrier(16)
        seen = []

        def look():
            barrier.wait()
            seen.append(shape(frame))

        threads = [threading.Thread(target=look) for _ in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        print(set(seen))
        """
    )
    assert out == "{(2, 1)}"
