"""The person-linkage settings of the household application (``settings.yaml`` beside this file)."""

from __future__ import annotations

from pathlib import Path

from entity_resolution.settings import LinkageSettings

SETTINGS_PATH = Path(__file__).with_name("settings.yaml")


def load_settings(path: str | Path | None = None) -> LinkageSettings:
    """The linkage settings; the match and review thresholds are at the top of the YAML."""
    return LinkageSettings.from_yaml(path or SETTINGS_PATH)
