"""The settings object: every variable the layer and the functions read, parsed once."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sms_platform.foundation import settings
from sms_platform.foundation.settings import Settings, SettingsError

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize(
    ("env", "field", "expected"),
    [
        ({}, "audit_retention_days", 1825),
        ({}, "fanout_chunk_recipients", 5000),
        ({}, "fanout_max_lane_depth", 1000),
        ({}, "limit_same_template_per_minute", 1),
        ({}, "limit_same_template_per_hour", 5),
        ({}, "limit_publicity_per_day", 3),
        ({}, "control_table", ""),
        ({}, "oidc_audience", ""),
        ({}, "platform_clock", ""),
        ({"CONTROL_TABLE": "control"}, "control_table", "control"),
        ({"AUDIT_RETENTION_DAYS": "30"}, "audit_retention_days", 30),
        ({"LIMIT_PUBLICITY_PER_DAY": "0"}, "limit_publicity_per_day", 0),  # 0 turns a limit off
        ({"PLATFORM_CLOCK": "2025-03-03T09:00:00+08:00"}, "platform_clock", "2025-03-03T09:00:00+08:00"),
        ({}, "platform_clock_at", None),
        ({"PLATFORM_CLOCK_AT": "1764979200.25"}, "platform_clock_at", 1764979200.25),
        ({"control_table": "lower case is another variable"}, "control_table", ""),
    ],
)
def test_values_and_defaults(env, field, expected):
    assert getattr(Settings.model_validate(env), field) == expected


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("AUDIT_RETENTION_DAYS", "five years"),
        ("AUDIT_RETENTION_DAYS", "0"),
        ("FANOUT_CHUNK_RECIPIENTS", "1.5"),
        ("FANOUT_MAX_LANE_DEPTH", "-1"),
        ("LIMIT_SAME_TEMPLATE_PER_MINUTE", "one"),
        ("LIMIT_PUBLICITY_PER_DAY", ""),
        ("PLATFORM_CLOCK", "tomorrow"),
        ("PLATFORM_CLOCK_AT", "now"),
    ],
)
def test_a_malformed_variable_is_named(monkeypatch, variable, value):
    monkeypatch.setenv(variable, value)
    settings.reset()
    try:
        settings.require()  # a cold start reads no value: the first read names the malformed one
        with pytest.raises(SettingsError, match=rf"malformed environment variable {variable}\b"):
            settings.settings()
    finally:
        monkeypatch.undo()
        settings.reset()


@pytest.mark.parametrize(
    ("names", "missing"),
    [
        (("CONTROL_TABLE",), "environment variable not set: CONTROL_TABLE"),
        (("CONTROL_TABLE", "HIGH_QUEUE_URL"), "environment variables not set: CONTROL_TABLE, HIGH_QUEUE_URL"),
        (settings.CARRIER, "CARRIER_ENDPOINT, CARRIER_SECRET_ARN"),
    ],
)
def test_a_missing_variable_is_named(monkeypatch, names, missing):
    for name in settings.VARIABLES:
        monkeypatch.delenv(name, raising=False)
    settings.reset()
    try:
        with pytest.raises(SettingsError, match=missing):
            settings.require(*names)
        with pytest.raises(SettingsError, match=names[0]):
            settings.settings().value(names[0])
    finally:
        monkeypatch.undo()
        settings.reset()


def test_required_and_set_passes_and_is_read_once(monkeypatch):
    monkeypatch.setenv("CONTROL_TABLE", "control")
    settings.reset()
    try:
        settings.require("CONTROL_TABLE")
        assert settings.settings().control_table == "control"
        monkeypatch.setenv("CONTROL_TABLE", "changed")
        assert settings.settings().control_table == "control"  # cached until reset()
        settings.reset()
        assert settings.settings().control_table == "changed"
    finally:
        monkeypatch.undo()
        settings.reset()


def test_a_misspelt_name_fails_the_cold_start_as_missing():
    with pytest.raises(SettingsError, match="not set: CONTROL_TABEL"):
        settings.require("CONTROL_TABEL")


def test_every_group_names_only_settings_and_platform_is_what_globals_give():
    from infra import template_model

    globals_env = set(template_model.load().globals_env)
    assert set(settings.PLATFORM) <= settings.VARIABLES
    assert set(settings.PLATFORM) <= globals_env
    # Globals' names the layer reads are settings (the pool id and audience may be empty).
    read = {name for name in globals_env if not name.startswith(("POWERTOOLS_", "PLATFORM_STAGE"))}
    assert read <= settings.VARIABLES


def _handlers() -> list[tuple[str, str]]:
    return sorted(
        (str(path.parent.relative_to(ROOT)), path.stem)
        for path in ROOT.glob("functions/*/*.py")
        if "settings.require(" in path.read_text(encoding="utf-8")
    )


def test_every_handler_module_checks_its_settings_at_import():
    from infra import template_model

    modules = {
        (str(f.code_path.relative_to(ROOT)).rstrip("/"), f.module) for f in template_model.load().functions.values()
    }
    assert modules <= set(_handlers())


@pytest.mark.parametrize(("code_root", "module"), _handlers())
def test_a_handler_fails_to_import_naming_a_missing_variable(code_root, module):
    # A fresh interpreter, as a Lambda environment starts, with none of the platform's variables.
    env = {name: value for name, value in os.environ.items() if name not in settings.VARIABLES}
    env["PYTHONPATH"] = os.pathsep.join(str(ROOT / p) for p in ("layers/shared", code_root))
    result = subprocess.run(
        [sys.executable, "-c", f"import {module}"], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode != 0
    assert "SettingsError: environment variable" in result.stderr
    assert ("_TABLE" in result.stderr) or ("PORTAL_BUCKET" in result.stderr) or ("WEBHOOK_SECRET_ARN" in result.stderr)


@pytest.mark.parametrize(("code_root", "module"), _handlers())
def test_a_handler_imports_without_building_the_settings_model(code_root, module):
    # Building the model imports pydantic-settings: 15-25 ms more cold import for the subscribe
    # and event handlers (`python -m benchmarks imports`), which sit close to their target. The
    # model is built, and the values read, on the first invocation.
    from infra import template_model

    env = {**os.environ, "PORTAL_BUCKET": "portal", "AUDIT_RETENTION_DAYS": "30"}
    env.update(
        {name: value if isinstance(value, str) else "set" for name, value in template_model.load().globals_env.items()}
    )
    env["PYTHONPATH"] = os.pathsep.join(str(ROOT / p) for p in ("layers/shared", code_root))
    probe = f"import sys, {module}; print('pydantic_settings' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=False)
    assert (result.returncode, result.stdout.strip()) == (0, "False"), result.stderr[-2000:]
