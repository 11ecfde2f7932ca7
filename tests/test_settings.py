"""Settings come from PACKGRAPH_* variables; the README documents every one of them."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from packgraph.cli import README_END, README_START, settings_help, settings_markdown
from packgraph.settings import Settings, SettingsError

README = Path(__file__).resolve().parents[1] / "README.md"


def test_defaults_run_a_demo_on_one_machine():
    settings = Settings.from_env({})
    assert settings == Settings()
    assert settings.database_url == "sqlite://packgraph.db"
    assert settings.broadcast_url == "memory://"
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)


def test_variables_are_parsed_by_type():
    settings = Settings.from_env(
        {
            "PACKGRAPH_DATABASE_URL": "postgres://db/packgraph",
            "PACKGRAPH_PORT": "9000",
            "PACKGRAPH_ALLOWED_ORIGINS": " https://a.test, ,https://b.test ",
            "PACKGRAPH_EXPIRY_INTERVAL_SECONDS": "0",
            "UNRELATED": "ignored",
        }
    )
    assert settings.database_url == "postgres://db/packgraph"
    assert settings.port == 9000
    assert settings.allowed_origins == ("https://a.test", "https://b.test")
    assert settings.expiry_interval_seconds == 0


def test_a_malformed_value_names_the_variable():
    with pytest.raises(SettingsError, match="PACKGRAPH_PORT"):
        Settings.from_env({"PACKGRAPH_PORT": "eighty"})


def test_settings_are_frozen_and_overridable():
    settings = Settings()
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.port = 1  # type: ignore[misc]
    assert settings.with_overrides(port=1).port == 1


def test_every_setting_is_documented_once():
    rows = Settings.documented()
    names = [name for name, _, _ in rows]
    assert len(rows) == len(dataclasses.fields(Settings))
    assert len(set(names)) == len(names)
    assert all(name.startswith("PACKGRAPH_") and doc for name, _, doc in rows)


def test_every_setting_round_trips_through_its_variable():
    for spec, (name, default, _) in zip(
        dataclasses.fields(Settings), Settings.documented(), strict=True
    ):
        if not default:
            continue
        assert getattr(Settings.from_env({name: default}), spec.name) == spec.default


def test_the_readme_table_matches_the_settings():
    text = README.read_text()
    assert README_START in text and README_END in text
    table = text.split(README_START, 1)[1].split(README_END, 1)[0].strip()
    assert table == settings_markdown(), "README settings table is stale: run `make docs`"


def test_cli_help_lists_every_setting_with_its_default():
    text = settings_help()
    for name, default, _ in Settings.documented():
        assert name in text
        assert f"[default: {default or '(empty)'}]" in text
