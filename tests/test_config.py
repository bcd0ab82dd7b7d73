"""Settings from the environment: defaults that need nothing, clear errors for bad values."""

from __future__ import annotations

import pytest

from pipeline_lab.config import settings
from pipeline_lab.errors import PipelineLabError


def test_defaults_need_no_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("PIPELINE_LAB_STREAMING_FRACTION", "PIPELINE_LAB_HEARTBEAT_S"):
        monkeypatch.delenv(name, raising=False)
    config = settings()
    assert (config.streaming_fraction, config.heartbeat_s) == (0.5, 10.0)


@pytest.mark.parametrize(
    ("name", "value", "field", "expected"),
    [
        pytest.param("PIPELINE_LAB_HEARTBEAT_S", "2.5", "heartbeat_s", 2.5, id="heartbeat"),
        pytest.param(
            "PIPELINE_LAB_STREAMING_FRACTION", "0.25", "streaming_fraction", 0.25, id="fraction"
        ),
    ],
)
def test_numbers_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, field: str, expected: float
) -> None:
    monkeypatch.setenv(name, value)
    assert getattr(settings(), field) == expected


@pytest.mark.parametrize(
    ("name", "value"),
    [
        pytest.param("PIPELINE_LAB_HEARTBEAT_S", "0", id="heartbeat-zero"),
        pytest.param("PIPELINE_LAB_HEARTBEAT_S", "soon", id="heartbeat-text"),
        pytest.param("PIPELINE_LAB_HEARTBEAT_S", "7200", id="heartbeat-two-hours"),
        pytest.param("PIPELINE_LAB_STREAMING_FRACTION", "1.5", id="fraction-above-one"),
        pytest.param("PIPELINE_LAB_STREAMING_FRACTION", "nan", id="fraction-nan"),
    ],
)
def test_a_bad_number_names_the_variable_and_the_fix(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(PipelineLabError, match=name) as info:
        settings()
    assert repr(value) in str(info.value) and info.value.hint
