"""LINLI_DEMO_CLOCK_FACTOR: the demo's fast clock, refused in production."""
from __future__ import annotations

import pytest

from config import ConfigError, load_settings


def test_the_fast_clock_shortens_the_reply_clock():
    values = load_settings("development", environ={"LINLI_DEMO_CLOCK_FACTOR": "30"})
    assert values["REPLY_SLA_SECONDS"] == 120 and values["REPLY_WARN_SECONDS"] == 30
    assert values["REPLY_SLA_NOMINAL_SECONDS"] == 3600


def test_real_time_by_default():
    values = load_settings("development", environ={})
    assert values["REPLY_SLA_SECONDS"] == 3600 and "REPLY_SLA_NOMINAL_SECONDS" not in values


def test_production_refuses_it():
    with pytest.raises(ConfigError, match="DEMO_CLOCK_FACTOR"):
        load_settings("production", environ={"LINLI_DEMO_CLOCK_FACTOR": "30", "LINLI_SECRET_KEY": "k" * 40})


def test_a_bad_value_is_one_line():
    with pytest.raises(ConfigError, match="LINLI_DEMO_CLOCK_FACTOR"):
        load_settings("development", environ={"LINLI_DEMO_CLOCK_FACTOR": "fast"})
