"""Component nodes as notebook cells: ``%%pipeline NAME --component KIND`` with YAML."""

from __future__ import annotations

import polars as pl

from pipeline_lab.errors import PipelineDefinitionError
from pipeline_lab.magics import session_of


def _orders(shell) -> None:
    shell.run_cell("import polars as pl")
    shell.run_cell(
        "%%pipeline orders\n"
        "pl.DataFrame({'amount': [5, 20, 30, 40], 'status': ['paid', 'paid', 'open', 'paid']})"
    )


def test_component_cell_runs_binds_and_displays_a_frame(shell, capsys):
    _orders(shell)
    result = shell.run_cell(
        "%%pipeline paid --component filter\ninput: orders\ncondition: \"status = 'paid'\""
    )
    assert result.success, result.error_in_exec
    assert isinstance(result.result, pl.DataFrame)
    assert shell.user_ns["paid"]["amount"].to_list() == [5, 20, 40]
    assert "✓ paid: 3 rows" in capsys.readouterr().out
    assert session_of(shell).pipeline.dependencies("paid") == ("orders",)


def test_chain_is_fused_and_explained(shell, capsys):
    _orders(shell)
    shell.run_cell(
        "%%pipeline paid --component filter\ninput: orders\ncondition: \"status = 'paid'\""
    )
    shell.run_cell("%%pipeline big --component filter\ninput: paid\ncondition: amount > 10")
    capsys.readouterr()
    assert shell.run_cell("%pipeline explain big").success
    plan = capsys.readouterr().out
    # one FILTER with both conditions: polars optimized the two nodes as one plan
    assert plan.count("FILTER") == 1 and "amount" in plan and "paid" in plan


def test_code_shows_the_polars_equivalent(shell, capsys):
    _orders(shell)
    shell.run_cell("%%pipeline big --component filter\ninput: orders\ncondition: amount > 10")
    capsys.readouterr()
    shell.run_cell("%pipeline code big")
    code = capsys.readouterr().out.strip()
    assert code == "orders.filter(pl.sql_expr('amount > 10'))"
    orders = shell.user_ns["orders"]
    assert eval(code, {"pl": pl, "orders": orders}).equals(shell.user_ns["big"])


def test_components_lists_the_library(shell, capsys):
    assert shell.run_cell("%pipeline components").success
    out = capsys.readouterr().out
    assert "filter" in out and "transform" in out and "condition" in out


def test_unknown_component_and_bad_parameters_are_clear(shell):
    _orders(shell)
    result = shell.run_cell("%%pipeline x --component filtr\ninput: orders\ncondition: a > 1")
    assert isinstance(result.error_in_exec, PipelineDefinitionError)
    assert "did you mean 'filter'" in str(result.error_in_exec)
    result = shell.run_cell("%%pipeline x --component filter\ninput: orders\nconditon: amount > 1")
    message = str(result.error_in_exec)
    assert "condition' is required" in message and "unknown parameter 'conditon'" in message
    result = shell.run_cell("%%pipeline x --component filter\ninput: orders\ncondition: amout > 1")
    assert "did you mean 'amount'" in str(result.error_in_exec)
    result = shell.run_cell("%%pipeline x --component filter\ninput: [orders\n")
    assert "not valid YAML" in str(result.error_in_exec)


def test_a_component_input_that_is_no_node_is_refused_with_a_suggestion(shell):
    _orders(shell)
    result = shell.run_cell("%%pipeline x --component filter\ninput: ordres\ncondition: amount > 1")
    assert isinstance(result.error_in_exec, PipelineDefinitionError)
    assert "input 'ordres' is not a node" in str(result.error_in_exec)
    assert "did you mean 'orders'" in str(result.error_in_exec)


def test_join_on_parameter_is_not_yaml_true(shell):
    _orders(shell)
    shell.run_cell(
        "%%pipeline regions\npl.DataFrame({'status': ['paid', 'open'], 'label': ['P', 'O']})"
    )
    result = shell.run_cell(
        "%%pipeline labelled --component join\nleft: orders\nright: regions\non: status"
    )
    assert result.success, result.error_in_exec
    assert shell.user_ns["labelled"]["label"].to_list() == ["P", "P", "O", "P"]


def test_colon_parameters_take_the_kernels_values(shell):
    _orders(shell)
    shell.run_cell("min_amount = 25")
    result = shell.run_cell(
        "%%pipeline big --component filter\ninput: orders\ncondition: amount > :min_amount"
    )
    assert result.success, result.error_in_exec
    assert shell.user_ns["big"]["amount"].to_list() == [30, 40]
    assert session_of(shell).pipeline.parameters_of("big") == ("min_amount",)


def test_code_of_a_component_using_parameters_can_be_pasted(shell, capsys):
    """``:min_amount`` is printed as the parameter's value, so the code runs as printed."""
    _orders(shell)
    shell.run_cell('min_amount = 10\nlabel = "it\'s paid"')
    shell.run_cell(
        "%%pipeline big --component filter\ninput: orders\n"
        "condition: \"amount > :min_amount AND status = 'paid'\""
    )
    shell.run_cell('%%pipeline tagged --component derive\ninput: big\ncolumns:\n  note: ":label"')
    for node in ("big", "tagged"):
        capsys.readouterr()
        assert shell.run_cell(f"%pipeline code {node}").success
        code = capsys.readouterr().out
        assert ":min_amount" not in code and ":label" not in code
        scope = {"pl": pl, "orders": shell.user_ns["orders"], "big": shell.user_ns["big"]}
        pasted = eval(code, scope)  # what a user pastes in a cell: the component's own code
        if isinstance(pasted, pl.LazyFrame):
            pasted = pasted.collect()
        assert pasted.equals(shell.user_ns[node])
