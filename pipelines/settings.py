"""Typed run-time settings, in one place, with defaults that run.

Every knob a data engineer may turn lives here and is read from the
environment (``HEARTH_*``); nothing else in ``pipelines/`` reads ``os.environ``.
Linkage thresholds live in ``entity_resolution/household/settings.yaml`` and
risk thresholds in ``warehouse/rules.yaml``: they are data, not settings.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, Field

DEPARTMENTS = ("education", "health", "housing", "water", "civil_affairs")


class HearthSettings(BaseModel):
    """Where things are and how the pipeline behaves."""

    data_dir: Path = Field(Path("data"), description="Root for everything Hearth writes.")
    landing_dir: Path | None = Field(None, description="Watched folder; default <data_dir>/landing.")
    state_dir: Path | None = Field(None, description="Ingestion and linkage state; default <data_dir>/state.")
    warehouse_path: Path | None = Field(None, description="Published warehouse; default <data_dir>/warehouse.duckdb.")
    reports_dir: Path | None = Field(None, description="HTML run reports; default <data_dir>/reports.")
    quiet_seconds: float = Field(5.0, description="A file must be unchanged this long before it is read.")
    ingest_workers: int = Field(0, ge=0, description="Files of one department ingested at once; 0: one per core.")
    freshness_days: int = Field(45, description="A department whose newest extract is older is flagged stale.")
    schedule_cron: str = Field("0 6 * * *", description="Daily run.")
    schedule_timezone: str = Field("Asia/Shanghai")
    sensor_interval_seconds: int = Field(30)
    min_id_stability: float = Field(0.99, description="Blocking check: share of entities keeping their ID.")
    max_household_size: int = Field(20, description="Blocking check: larger households are implausible.")
    min_link_rate: float = Field(0.5, description="Blocking check: share of records linked to another record.")
    demo: bool = Field(False, description="Demo mode: a fixed pseudonymisation key is allowed.")

    @property
    def landing(self) -> Path:
        return self.landing_dir or self.data_dir / "landing"

    @property
    def state(self) -> Path:
        return self.state_dir or self.data_dir / "state"

    @property
    def warehouse(self) -> Path:
        return self.warehouse_path or self.data_dir / "warehouse.duckdb"

    @property
    def reports(self) -> Path:
        return self.reports_dir or self.data_dir / "reports"

    @classmethod
    def from_env(cls, **overrides) -> "HearthSettings":
        """Read ``HEARTH_<FIELD>`` variables; explicit overrides win."""
        values: dict[str, object] = {}
        for name in cls.model_fields:
            raw = os.environ.get(f"HEARTH_{name.upper()}")
            if raw not in (None, ""):
                values[name] = raw
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls.model_validate(values)
