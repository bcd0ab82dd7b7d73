"""``--check EXPR``: a SQL condition (parsed by polars, never eval'd) every output row must satisfy."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pipeline_lab.errors import QualityGateError
from pipeline_lab.events import CheckResult, NodeOutcome, RunInfo, Verdict
from pipeline_lab.frames import is_frame, to_polars
from pipeline_lab.graph import Issue
from pipeline_lab.redact import MASK, pii_columns
from pipeline_lab.suggest import did_you_mean

if TYPE_CHECKING:
    import polars as pl

    from pipeline_lab.graph import Node

SHOWN_ROWS = 5


_CHECK_HINT = 'write a SQL boolean expression over the output\'s columns, e.g. "amount > 0"'


def _parse(check: str, node: str) -> Any:
    import polars as pl

    # The SQL policy first: polars plans a subquery's scan (reads a file, fetches a URL)
    # as it parses; it then parses the policy's text, not the one given.
    from pipeline_lab.sql_policy import RefusedSql, check_sql_expression

    try:
        text = check_sql_expression(check).text
    except RefusedSql as exc:
        shown = repr(check if len(check) <= 200 else check[:200] + "...")
        if exc.invalid:
            message = f"check {shown} is not a valid SQL condition: {exc.reason}"
        else:
            message = f"check {shown} {exc.reason}"
        raise QualityGateError(message, node=node, hint=exc.hint or _CHECK_HINT) from None
    try:
        return pl.sql_expr(text)
    except Exception as exc:
        raise QualityGateError(
            f"check {check!r} is not a valid SQL condition: {exc}", node=node, hint=_CHECK_HINT
        ) from None


def check_issues(node: Node) -> list[Issue]:
    """Checks that do not parse as SQL, found before the node runs."""
    issues = []
    for check in node.checks:
        try:
            _parse(check, node.name)
        except QualityGateError as exc:
            issues.append(Issue("bad-check", exc.message, node.name, exc.hint))
    return issues


def evaluate_check(frame: Any, check: str, *, node: str) -> CheckResult:
    """Evaluate ``check`` on ``frame``; raise ``QualityGateError`` naming the failing rows."""
    result, error = judge_check(frame, check, node=node)
    if error is not None:
        raise error
    return result


def judge_check(
    frame: Any, check: str, *, node: str
) -> tuple[CheckResult, QualityGateError | None]:
    """``check`` on ``frame``: its result, and the error that fails the node if rows fail.

    A check that cannot be evaluated (unknown column, not a condition) raises.
    """
    import polars as pl

    expr = _parse(check, node)
    df = to_polars(frame)
    missing = [c for c in expr.meta.root_names() if c not in df.columns]
    if missing and not df.columns:
        raise QualityGateError(
            f"check {check!r} checked 0 rows: the output is an empty frame, without even "
            f"the column{'s' if len(missing) > 1 else ''} {', '.join(missing)}",
            node=node,
            hint="the node returned an empty frame: look at its code and its inputs",
        )
    if missing:
        raise QualityGateError(
            f"check {check!r} names column(s) the output does not have: {', '.join(missing)}",
            node=node,
            hint=" ".join(
                filter(
                    None,
                    [did_you_mean(missing[0], df.columns), f"columns: {', '.join(df.columns)}"],
                )
            ),
        )
    try:
        ok = df.select(expr.fill_null(False).alias("__ok__")).to_series()
    except Exception as exc:
        raise QualityGateError(
            f"check {check!r} could not be evaluated: {exc}", node=node
        ) from None
    if ok.dtype == pl.Boolean and df.height == 0 and len(ok) != 0:
        raise QualityGateError(
            f"check {check!r} checked 0 rows: the output is empty, and the check gives one "
            "value for the whole output, not one per row",
            node=node,
            hint="a --check is tested on each row, so it cannot ask for rows; to fail on an "
            f"empty output, raise in the node (e.g. assert len({node}) > 0)",
        )
    if ok.dtype != pl.Boolean or len(ok) != df.height:
        raise QualityGateError(
            f"check {check!r} is not a condition (it gives {ok.dtype}, not one boolean per row)",
            node=node,
            hint="compare values, e.g. \"amount > 0\" or \"status IN ('paid', 'open')\"",
        )
    index = "row"
    while index in df.columns:  # the frame's own "row" column must stay visible, not clash
        index = f"_{index}"
    failing = df.with_row_index(index).filter(~ok)
    shown, masked = _without_personal_data(failing.head(SHOWN_ROWS), keep=index)
    result = CheckResult(
        rule=check,
        passed=failing.height == 0,
        failed_rows=failing.height,
        total_rows=df.height,
        sample=tuple(shown.to_dicts()),
    )
    if not failing.height:
        return result, None
    with pl.Config(tbl_rows=SHOWN_ROWS, tbl_cols=12, fmt_str_lengths=40):
        sample = repr(shown)
    if masked:
        sample += f"\n({', '.join(masked)} masked: they look like personal data)"
    return result, QualityGateError(
        f"check {check!r} failed for {failing.height} of {df.height} rows; first failing rows:\n{sample}",
        node=node,
        hint="fix the data or the node, or relax the check",
    )


def _without_personal_data(rows: pl.DataFrame, *, keep: str) -> tuple[pl.DataFrame, list[str]]:
    """``rows`` with every value of a column that looks like personal data as ``***``, and
    those columns.

    These rows are stored with the run and shown in its error: an email, a phone number or
    a name there would spread beyond the data's own access rules. Which columns: see
    :func:`pipeline_lab.redact.pii_columns` (by name, or by any value). Nulls stay nulls
    (they often are why a row failed); the row index and other columns stay as they are.
    """
    import polars as pl

    masked = pii_columns(rows.to_dicts(), keep=[keep])
    if not masked:
        return rows, masked
    hidden = rows.with_columns(
        pl.when(pl.col(c).is_null()).then(None).otherwise(pl.lit(MASK)).alias(c) for c in masked
    )
    return hidden, masked


class ChecksGate:
    """Gate: fails a node whose output breaks one of its ``--check`` conditions."""

    def judge(self, run: RunInfo, node: Node, outcome: NodeOutcome) -> Verdict | None:
        if not node.checks:
            return None
        if not is_frame(outcome.output):
            returned = (
                "produced no output (None)"
                if outcome.output is None
                else f"returned {type(outcome.output).__name__}"
            )
            return Verdict(
                error=QualityGateError(
                    f"--check needs a frame output, but the node {returned}",
                    node=node.name,
                    hint=f"make the cell's last expression (or its variable '{node.name}') a "
                    "DataFrame",
                )
            )
        results: list[CheckResult] = []
        error: QualityGateError | None = None
        for check in node.checks:
            result, failed = judge_check(outcome.output, check, node=node.name)
            results.append(result)
            error = error or failed
        return Verdict(checks=tuple(results), error=error)
