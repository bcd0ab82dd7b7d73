"""RunRepository: newest first, filtered, limited; runs found by id prefix; JSON-ready."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from pipeline_lab import Node, Pipeline, StoreError
from pipeline_lab.store import RunRepository, Store, StoreObserver
from pipeline_lab.store._models import RunRecord, utcnow


def _pipeline(name: str, fail: bool = False) -> Pipeline:
    pipeline = Pipeline(name)
    pipeline.add(Node("one", code="1 / 0" if fail else "1"))
    return pipeline


def _add_run(store: Store, run_id: str, pipeline: str = "p", minutes_ago: int = 0) -> None:
    with store.session() as session:
        session.add(
            RunRecord(
                run_id=run_id,
                pipeline=pipeline,
                status="succeeded",
                source="api",
                executor="threads",
                params={},
                report_errors={},
                hook_errors=[],
                started_at=utcnow() - timedelta(minutes=minutes_ago),
            )
        )


def test_list_runs_newest_first_with_filter_and_limit(store: Store) -> None:
    hook = StoreObserver(store)
    ids = []
    for name in ("a", "b", "a", "b", "a"):
        ids.append(_pipeline(name).run(hooks=[hook]).run_id)
    runs = RunRepository(store)
    assert [r.run_id for r in runs.list_runs()] == ids[::-1]
    assert [r.run_id for r in runs.list_runs(limit=2)] == ids[:-3:-1]
    assert [r.run_id for r in runs.list_runs(pipeline="a")] == [ids[4], ids[2], ids[0]]
    assert runs.list_runs(pipeline="nothing") == []
    newest = runs.list_runs(limit=1)[0]
    assert (newest.pipeline, newest.status, newest.nodes, newest.source) == (
        "a",
        "succeeded",
        1,
        "api",
    )
    with pytest.raises(ValueError, match="limit"):
        runs.list_runs(limit=0)


def test_get_run_by_unique_prefix(store: Store) -> None:
    result = _pipeline("p", fail=True).run(hooks=[StoreObserver(store)])
    runs = RunRepository(store)
    for prefix in (result.run_id, result.run_id[:6], result.run_id[:6].upper()):
        assert runs.get_run(prefix).run_id == result.run_id
    assert runs.get_run(result.run_id).status == "failed"


def test_unknown_ambiguous_and_malformed_ids(store: Store) -> None:
    _add_run(store, "abc" + "0" * 29, minutes_ago=2)
    _add_run(store, "abd" + "0" * 29, minutes_ago=1)
    runs = RunRepository(store)
    with pytest.raises(StoreError, match="ambiguous") as caught:
        runs.get_run("ab")
    assert "abd0" in str(caught.value) and "abc0" in str(caught.value)
    assert runs.get_run("abc").run_id.startswith("abc")
    with pytest.raises(StoreError, match="no run 'ffff'"):
        runs.get_run("ffff")
    with pytest.raises(StoreError, match="not a run id"):
        runs.get_run("ab%")


def test_records_are_json_ready(store: Store) -> None:
    result = _pipeline("p", fail=True).run(hooks=[StoreObserver(store)])
    runs = RunRepository(store)
    detail = runs.get_run(result.run_id).to_dict()
    text = json.dumps(detail)  # no default=: everything must already be JSON
    assert json.loads(text)["nodes"][0]["error"] == "ZeroDivisionError: division by zero"
    assert detail["nodes"][0]["name"] == "one"
    assert detail["started_at"].endswith("+00:00")
    summary = runs.list_runs()[0].to_dict()
    assert json.loads(json.dumps(summary))["nodes"] == 1
