"""Dagster resources: thin wrappers that hand typed settings to the assets."""


import os
from pathlib import Path

import dagster as dg

from pipelines.settings import HearthSettings


class HearthResource(dg.ConfigurableResource):
    """Paths and behaviour of one Hearth deployment (see ``HearthSettings``)."""

    data_dir: str = "data"
    landing_dir: str | None = None
    state_dir: str | None = None
    warehouse_path: str | None = None
    reports_dir: str | None = None
    quiet_seconds: float = 5.0
    freshness_days: int = 45
    min_id_stability: float = 0.99
    max_household_size: int = 20
    min_link_rate: float = 0.5
    demo: bool = False

    @classmethod
    def from_settings(cls, settings: HearthSettings) -> "HearthResource":
        fields = set(cls.model_fields)
        values = {k: v for k, v in settings.model_dump().items() if k in fields and v is not None}
        return cls(**{k: str(v) if isinstance(v, Path) else v for k, v in values.items()})

    def settings(self) -> HearthSettings:
        return HearthSettings.model_validate(self.model_dump())


class PseudonymKey(dg.ConfigurableResource):
    """The keyed-hash secret for analyst pseudonyms. Comes from the environment
    (``HEARTH_PSEUDONYM_KEY``) through ``dg.EnvVar`` so it never appears in the
    UI, the run config or the repository."""

    key: str | None = None

    @classmethod
    def from_env(cls) -> "PseudonymKey":
        if os.environ.get("HEARTH_PSEUDONYM_KEY"):
            return cls(key=dg.EnvVar("HEARTH_PSEUDONYM_KEY"))
        return cls(key=None)
