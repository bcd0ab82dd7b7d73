"""``pipeline-lab`` as a user types it: exit codes, tables, JSON, errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline_lab.cli import main

BIN = Path(sys.executable).parent / "pipeline-lab"


@pytest.fixture
def good(write_notebook):
    return write_notebook(
        ("parameters", "n = 3\nlabel = 'x'"),
        "%load_ext pipeline_lab",
        "import json",
        "%%pipeline numbers\nlist(range(n))",
        "%%pipeline total --retries 1 --retry-delay 0.01\nsum(numbers)",
        "%%pipeline tagged\nf'{label}:{total}'",
        "print('report', total)",
        "%pipeline show",
    )


@pytest.fixture
def failing(write_notebook):
    return write_notebook(
        "%%pipeline a\n1",
        "%%pipeline boom\ndef f(v):\n    return v / 0\nf(a)",
        "%%pipeline after\nboom + 1",
        "%%pipeline other\na + 1",
        name="failing.ipynb",
    )


def run_json(*args: str) -> tuple[int, dict]:
    done = subprocess.run([str(BIN), *args, "--json"], capture_output=True, text=True, timeout=60)
    return done.returncode, json.loads(done.stdout)


def test_run_json_shape_and_exit_code(good):
    code, data = run_json("run", str(good), "-p", "n=5", "-p", "label=total")
    assert code == 0
    assert set(data) >= {"run_id", "pipeline", "status", "nodes"}
    assert data["pipeline"] == "flow" and data["status"] == "succeeded"
    assert list(data["nodes"]) == ["numbers", "total", "tagged"]
    for node in data["nodes"].values():
        assert set(node) == {"status", "rows", "duration_s", "attempts", "error", "checks"}
        assert node["status"] == "succeeded" and node["attempts"] == 1 and node["error"] is None


def test_run_failure_exit_code_and_skips(failing):
    code, data = run_json("run", str(failing))
    assert code == 1
    nodes = data["nodes"]
    assert nodes["boom"]["status"] == "failed" and "ZeroDivisionError" in nodes["boom"]["error"]
    assert nodes["after"]["status"] == "skipped"
    assert nodes["other"]["status"] == "succeeded"


def test_run_table_shows_summary_and_users_traceback(failing, capsys):
    assert main(["run", str(failing)]) == 1
    out = capsys.readouterr().out
    for text in (
        "boom",
        "failed",
        "skipped",
        "<pipeline node boom>",
        "return v / 0",
        "ZeroDivisionError",
    ):
        assert text in out
    assert "_node_runner.py" not in out


def test_params_are_json_or_strings_never_code(write_notebook, capsys):
    nb = write_notebook(("parameters", "x = None"), "%%pipeline out\nrepr(x)")
    assert main(["run", str(nb), "-p", "x=__import__('os').getcwd()", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["status"] == "succeeded"
    assert main(["run", str(nb), "-p", "x=[1, 2]", "--json"]) == 0
    capsys.readouterr()


@pytest.mark.parametrize(
    ("default", "raw", "expected"),
    [
        pytest.param("3", "4", 4, id="int"),
        pytest.param("0.5", "2", 2.0, id="float-from-int"),
        pytest.param("'a'", "5", "5", id="string-stays-string"),
        pytest.param("'a'", "", "", id="empty-string"),
        pytest.param("False", "yes", True, id="bool-spelling"),
        pytest.param("[1]", "[2, 3]", [2, 3], id="list"),
        pytest.param("None", '{"k": 1}', {"k": 1}, id="untyped-json"),
        pytest.param("None", "plain text", "plain text", id="untyped-string"),
    ],
)
def test_param_values_take_the_type_of_their_default(
    write_notebook, tmp_path, default, raw, expected
):
    out = tmp_path / "value.json"
    nb = write_notebook(
        ("parameters", f"x = {default}"),
        f"%%pipeline written\nimport json\nopen({str(out)!r}, 'w').write(json.dumps(x))",
    )
    assert main(["run", str(nb), "-p", f"x={raw}", "--json"]) == 0
    assert json.loads(out.read_text()) == expected


@pytest.mark.parametrize(
    ("default", "raw"),
    [
        pytest.param("3", "abc", id="int-from-text"),
        pytest.param("3", "", id="int-from-empty"),
        pytest.param("3", "2.5", id="int-from-float"),
        pytest.param("True", "maybe", id="bool-from-text"),
        pytest.param("[1]", "{}", id="list-from-dict"),
    ],
)
def test_param_values_of_the_wrong_type_are_refused(write_notebook, capsys, default, raw):
    nb = write_notebook(("parameters", f"x = {default}"), "%%pipeline out\nx")
    assert main(["run", str(nb), "-p", f"x={raw}"]) == 2
    err = capsys.readouterr().err
    assert "parameter 'x' expects" in err and repr(raw) in err


@pytest.mark.parametrize(
    ("param", "message"),
    [
        pytest.param("__import__('os')=1", "NAME a Python identifier", id="name-is-code"),
        pytest.param("novalue", "expected NAME=VALUE", id="no-equals"),
        pytest.param("y=1", "unknown parameter(s) 'y'", id="unknown-name"),
    ],
)
def test_bad_params_are_refused(write_notebook, capsys, param, message):
    nb = write_notebook(("parameters", "x = 1"), "%%pipeline out\nx")
    assert main(["run", str(nb), "-p", param]) == 2
    assert message in capsys.readouterr().err


def test_parameter_value_reaches_nodes(write_notebook, tmp_path, capsys):
    out = tmp_path / "value.txt"
    nb = write_notebook(
        ("parameters", f"x = 'default'\nout = {str(out)!r}"),
        "%%pipeline written\nopen(out, 'w').write(repr(params.x))",
    )
    assert main(["run", str(nb), "-p", "x=__import__('os')", "--json"]) == 0
    assert out.read_text() == repr("__import__('os')")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param(None, "does not exist", id="missing"),
        pytest.param("just text", "is not a Jupyter notebook", id="not-json"),
        pytest.param('{"hello": 1}', "is not a Jupyter notebook", id="not-a-notebook"),
    ],
)
def test_bad_notebook_paths(tmp_path, capsys, content, message):
    path = tmp_path / "x.ipynb"
    if content is not None:
        path.write_text(content)
    assert main(["run", str(path)]) == 2
    err = capsys.readouterr().err
    assert message in err and str(path) in err and "Traceback" not in err


def test_definition_errors_are_listed_before_anything_runs(write_notebook, capsys, tmp_path):
    marker = tmp_path / "ran"
    nb = write_notebook(
        f"%%pipeline a\nopen({str(marker)!r}, 'w')\nb + 1",
        "%%pipeline b\na + 1",
        "%%pipeline c\nx = (1 +",
    )
    assert main(["run", str(nb)]) == 2
    err = capsys.readouterr().err
    assert "cycle" in err and "syntax error" in err
    assert not marker.exists()


def test_only_and_from(good):
    code, data = run_json("run", str(good), "--only", "total")
    assert code == 0 and list(data["nodes"]) == ["numbers", "total"]
    code, data = run_json("run", str(good), "--from", "total", "--executor", "sequential")
    assert code == 0 and list(data["nodes"]) == ["numbers", "total", "tagged"]


def test_unknown_node_in_only(good, capsys):
    assert main(["run", str(good), "--only", "totl"]) == 2
    assert "did you mean 'total'" in capsys.readouterr().err


def test_validate(good, write_notebook, capsys):
    assert main(["validate", str(good)]) == 0
    assert "numbers -> total -> tagged" in capsys.readouterr().out
    bad = write_notebook("%%pipeline a\nsum(nmbers)", "%%pipeline numbers\n[1]", name="bad.ipynb")
    assert main(["validate", str(bad)]) == 1
    assert "did you mean 'numbers'" in capsys.readouterr().out


def test_unreachable_store_is_a_clear_error(good, monkeypatch, capsys):
    monkeypatch.setenv("PIPELINE_LAB_DB_URL", "postgresql+psycopg://me:s3cret@127.0.0.1:1/nowhere")
    assert main(["run", str(good)]) == 2
    err = capsys.readouterr().err
    assert "127.0.0.1" in err and "s3cret" not in err and "Traceback" not in err


def test_runs_list_and_show(good, failing, capsys):
    assert main(["run", str(good), "--json"]) == 0
    first = json.loads(capsys.readouterr().out)["run_id"]
    assert main(["run", str(failing), "--json"]) == 1
    second = json.loads(capsys.readouterr().out)["run_id"]
    assert main(["runs", "--json"]) == 0
    runs = json.loads(capsys.readouterr().out)
    assert [r["run_id"] for r in runs[:2]] == [second, first]
    assert main(["runs", "--pipeline", "flow", "--limit", "5", "--json"]) == 0
    assert {r["pipeline"] for r in json.loads(capsys.readouterr().out)} == {"flow"}
    assert main(["runs", "show", second[:8]]) == 1  # a failed run: non-zero, like `run`
    out = capsys.readouterr().out
    assert second in out and "boom" in out and "ZeroDivisionError" in out
    # The user's traceback, from the store: their frames and lines, none of ours.
    assert "return v / 0" in out and "in f" in out and "pipeline_lab/" not in out
    assert main(["runs"]) == 0
    assert first[:8] in capsys.readouterr().out
    assert main(["runs", "show", "ffffffffff"]) == 2
    assert "ffffffffff" in capsys.readouterr().err


@pytest.mark.parametrize("node_fails", [False, True])
def test_a_failing_report_cell_is_said_never_to_fail_only_an_ok_run(
    write_notebook, capsys, node_fails
):
    nb = write_notebook(
        "%%pipeline a\n" + ("1 / 0" if node_fails else "1"),
        "%%pipeline b\n2",
        "print(b)\nraise RuntimeError('plot broke')",
        name="reports.ipynb",
    )
    assert main(["run", str(nb)]) == (1 if node_fails else 0)
    out = capsys.readouterr().out
    assert "plot broke" in out
    assert ("report cells never fail the pipeline" in out) is not node_fails
    assert "counts as ok" not in out  # never said of a failed run, nor needed for an ok one


def test_skipped_magic_lines_are_noted(write_notebook, capsys):
    nb = write_notebook("%timeit 1 + 1", "%%pipeline a\n1")
    assert main(["run", str(nb)]) == 0
    assert "%timeit" in capsys.readouterr().out


def test_a_custom_transform_registered_in_a_setup_cell_runs_headless(write_notebook, capsys):
    nb = write_notebook(
        "import polars as pl\nimport pipeline_lab\n\n"
        "@pipeline_lab.transform\n"
        "def scaled(frame: pl.DataFrame, *, factor: int = 2) -> pl.DataFrame:\n"
        "    '''Multiply x by a factor.'''\n"
        "    return frame.with_columns(pl.col('x') * factor)",
        "%%pipeline numbers\npl.DataFrame({'x': [1, 2, 3]})",
        "%%pipeline tripled --component scaled\ninput: numbers\nfactor: 3",
        "%%pipeline total\nint(tripled['x'].sum())",
        name="custom.ipynb",
    )
    assert main(["run", str(nb), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["nodes"]["tripled"]["rows"] == 3 and data["status"] == "succeeded"


def test_an_unknown_component_is_refused_before_running(write_notebook, capsys):
    nb = write_notebook(
        "import polars as pl",
        "%%pipeline numbers\npl.DataFrame({'x': [1]})",
        "%%pipeline tripled --component scaledd\ninput: numbers",
        name="unknown.ipynb",
    )
    assert main(["run", str(nb)]) == 2
    assert "unknown component 'scaledd'" in capsys.readouterr().err


def test_a_setup_transform_that_does_not_register_fails_the_run_clearly(write_notebook, capsys):
    nb = write_notebook(
        "import polars as pl\n\ndef transform(f):  # not Pipeline Lab's\n    return f\n\n"
        "@transform\ndef never_registered(frame):\n    return frame",
        "%%pipeline numbers\npl.DataFrame({'x': [1]})",
        "%%pipeline tripled --component never_registered\ninput: numbers",
        name="fake.ipynb",
    )
    assert main(["run", str(nb), "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert "the setup cells ran but did not register it" in data["setup_error"]
    assert data["nodes"]["tripled"]["status"] == "skipped"


def test_p_reaches_component_sql_through_colon_parameters(write_notebook, capsys):
    nb = write_notebook(
        ("parameters", "min_amount = 10"),
        "import polars as pl",
        "%%pipeline orders\npl.DataFrame({'amount': [5, 20, 30, 40]})",
        "%%pipeline big --component filter\ninput: orders\ncondition: amount > :min_amount",
        name="colon.ipynb",
    )
    assert main(["run", str(nb), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["nodes"]["big"]["rows"] == 3
    assert main(["run", str(nb), "-p", "min_amount=25", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["nodes"]["big"]["rows"] == 2


def test_executor_choices_come_from_the_registry_with_plug_ins(tmp_path: Path) -> None:
    """An installed package's executor (entry point) is a choice of --executor and runs."""
    import os
    import textwrap

    (tmp_path / "acme_exec.py").write_text(
        textwrap.dedent("""
        from pipeline_lab.engine import SequentialExecutor

        class Loud(SequentialExecutor):
            def submit(self, task):
                print(f"acme runs {task.name}", flush=True)
                super().submit(task)
        """)
    )
    dist = tmp_path / "acme_exec-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-exec\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[pipeline_lab.executors]\nacme = acme_exec:Loud\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), *sys.path])}
    shown = subprocess.run(
        [str(BIN), "run", "--help"], capture_output=True, text=True, env=env, check=True
    )
    assert "acme" in shown.stdout and "sequential" in shown.stdout and "threads" in shown.stdout
    notebook = tmp_path / "nb.ipynb"
    notebook.write_text(
        json.dumps(
            {
                "cells": [
                    {
                        "cell_type": "code",
                        "id": "a",
                        "metadata": {},
                        "outputs": [],
                        "execution_count": None,
                        "source": "%%pipeline one\n1",
                    }
                ],
                "metadata": {},
                "nbformat": 4,
                "nbformat_minor": 5,
            }
        )
    )
    done = subprocess.run(
        [str(BIN), "run", str(notebook), "--executor", "acme"],
        capture_output=True,
        text=True,
        env={**env, "PIPELINE_LAB_STORE": "off"},
    )
    assert done.returncode == 0, done.stderr
    assert "acme runs one" in done.stdout


# -- what validate and --json say about a notebook that cannot run -------------------------------

NOTEBOOKS = Path(__file__).resolve().parents[1] / "data" / "notebooks"


def test_validate_lists_every_mistake_of_a_notebook_by_cell(capsys):
    assert main(["validate", str(NOTEBOOKS / "mistakes.ipynb")]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "pipeline 'mistakes' has 3 errors:"
    assert lines[1].startswith("  - error: cell 2: sets min_amount like a parameters cell")
    assert "big uses :min_amount" in lines[1] and "tag cell 2 'parameters'" in lines[1]
    assert lines[2].startswith("  - error: node 'orders' (cell 5): produces no output")
    assert "rename 'df' to 'orders'" in lines[2]
    assert lines[3].startswith("  - error: node 'few' (cell 7): the component parameters are")


@pytest.mark.parametrize(
    ("command", "code"),
    [pytest.param("validate", 1, id="validate"), pytest.param("run", 2, id="run")],
)
def test_json_issues_carry_their_cells_and_a_yaml_error_hides_nothing(capsys, command, code):
    assert main([command, str(NOTEBOOKS / "mistakes.ipynb"), "--json"]) == code
    data = json.loads(capsys.readouterr().out)
    found = [(i["code"], i["node"], i["cell"]) for i in data["issues"]]
    assert found == [
        ("untagged-parameters", None, 2),
        ("no-output", "orders", 5),
        ("bad-cell", "few", 7),
    ]
    if command == "run":
        assert (data["status"], data["run_id"], data["error_type"]) == (
            "invalid",
            None,
            "InvalidPipeline",
        )


BAD_FILES = [
    pytest.param(None, "does not exist", id="missing"),
    pytest.param("just text", "not valid notebook JSON", id="not-json"),
    pytest.param(json.dumps({"cells": [7], "nbformat": 4}), "is damaged: cell 1", id="damaged"),
    pytest.param(NOTEBOOKS / "nbformat3.ipynb", "is an nbformat 3 notebook", id="nbformat-3"),
]


@pytest.mark.parametrize(("content", "message"), BAD_FILES)
@pytest.mark.parametrize("command", ["validate", "run"])
def test_json_for_a_notebook_that_cannot_be_read(tmp_path, capsys, content, message, command):
    path = tmp_path / "bad.ipynb"
    if content is not None:
        path.write_text(content.read_text() if isinstance(content, Path) else content)
    assert main([command, str(path), "--json"]) == 2  # as without --json
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    assert message in data["error"] and data["hint"] and data["pipeline"] == "bad"
    assert data.get("valid", data.get("status")) in (False, "invalid")
    assert message in captured.err and "Traceback" not in captured.err


@pytest.mark.parametrize(
    ("cells", "args", "error"),
    [
        pytest.param(["print('no nodes here')"], [], "has no nodes", id="no-pipeline-cells"),
        pytest.param(
            [("parameters", "n = 1"), "%%pipeline a\nn"], ["-p", "n=x"], "expects", id="bad-p"
        ),
        pytest.param(
            [("parameters", "n = 1"), "%%pipeline a\nn"], ["-p", "m=2"], "unknown", id="unknown-p"
        ),
    ],
)
def test_run_json_for_a_run_that_cannot_start(write_notebook, capsys, cells, args, error):
    nb = write_notebook(*cells)
    assert main(["run", str(nb), *args, "--json"]) == 2
    data = json.loads(capsys.readouterr().out)
    assert data["status"] == "invalid" and error in data["error"]
    assert data["nodes"] == {} and data["recorded"] is False


def test_a_node_without_output_is_noted_in_the_run_and_in_validate(
    write_notebook, capsys, tmp_path
):
    out = tmp_path / "out.txt"
    nb = write_notebook(f"%%pipeline save\nopen({str(out)!r}, 'w').write('x')\nsaved = True")
    assert main(["run", str(nb)]) == 0
    assert "note: node 'save' (cell 1): produces no output" in capsys.readouterr().out
    assert main(["validate", str(nb)]) == 0
    out_text = capsys.readouterr().out
    assert "is valid" in out_text and "1 warning:" in out_text
    assert "warning: node 'save' (cell 1): produces no output" in out_text


def test_run_json_carries_the_notices_of_the_run(write_notebook) -> None:
    notebook = write_notebook(
        "%%pipeline orders\ndf = [1, 2, 3]", "%%pipeline other\n1", name="silent.ipynb"
    )
    code, data = run_json("run", str(notebook))
    assert code == 0
    assert any("orders" in n and "no output" in n for n in data["notices"]), data["notices"]


def test_a_parameter_of_a_notebook_without_a_tagged_cell_says_to_tag_one(write_notebook) -> None:
    notebook = write_notebook("top_n = 3", "%%pipeline a\ntop_n * 2", name="untagged.ipynb")
    done = subprocess.run(
        [str(BIN), "run", str(notebook), "-p", "top_n=5"], capture_output=True, text=True
    )
    assert done.returncode == 2
    assert "no cell tagged 'parameters'" in done.stderr and "Cell Tags" in done.stderr
