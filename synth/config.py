"""Configuration and summary of a synthetic run.

Every knob that changes what the generator produces lives here, so a test or a
benchmark can ask for "no defects", "only CSV" or "three snapshots" without
touching the code.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

DEPARTMENTS = ("education", "health", "housing", "water", "civil_affairs")
FORMATS = ("csv_utf8", "csv_utf8_bom", "csv_gb18030", "xlsx", "parquet")


class DefectRates(BaseModel):
    """Share of eligible cells (or rows) that receive each defect.

    A cell receives at most one defect per field; rates of the kinds competing
    for the same field are therefore cumulative and must stay well below 1.
    """

    model_config = ConfigDict(extra="forbid")

    # names (every NAME column)
    name_space: float = 0.02
    name_traditional: float = 0.015
    name_homophone: float = 0.02
    name_separator: float = 0.3  # share of minority names written with `.` or `•`
    name_blank: float = 0.003  # required name missing (row is quarantined downstream)
    # identity numbers (every ID_NUMBER column)
    id_blank: float = 0.02
    id_lower_x: float = 0.3  # share of IDs ending in X written with `x`
    id_fullwidth: float = 0.01
    id_excel: float = 0.01
    id_legacy15: float = 0.01
    id_digit_wrong: float = 0.01
    id_transposed: float = 0.01
    # person fields
    gender_numeric: float = 0.03
    gender_disagrees_with_id: float = 0.005
    birth_date_disagrees_with_id: float = 0.005
    # dates (every DATE column); ISO `YYYY-MM-DD` is the clean form
    date_slash: float = 0.02
    date_compact: float = 0.02
    date_chinese: float = 0.02
    date_excel_serial: float = 0.01
    date_impossible: float = 0.003
    # phones (every PHONE column)
    phone_plus86: float = 0.02
    phone_spaces: float = 0.02
    phone_dashes: float = 0.02
    phone_placeholder: float = 0.01
    # places
    village_code_blank: float = 0.03
    # values
    enum_variant: float = 0.03
    # rows
    blank_row: float = 0.002
    duplicate_row: float = 0.003
    record_id_blank: float = 0.002
    # headers (per file and column)
    header_stray_space: float = 0.1
    header_alias: float = 0.1
    header_english_file: float = 0.15  # share of files with canonical English headers
    # whole files
    file_date_format: float = 0.3  # share of files whose base date format is not ISO

    @classmethod
    def none(cls) -> "DefectRates":
        """Clean data: every rate zero."""
        return cls(**{name: 0.0 for name in cls.model_fields})


class SynthConfig(BaseModel):
    """What to generate. Defaults give a realistic, modestly dirty demo."""

    model_config = ConfigDict(extra="forbid")

    snapshot_dates: list[date] = Field(default_factory=lambda: [date(2026, 1, 5), date(2026, 7, 5)])
    defects: DefectRates = Field(default_factory=DefectRates)
    #: share of households (or, for education/health, eligible people) each department covers
    coverage: dict[str, float] = Field(default_factory=lambda: {
        "education": 0.95, "health": 0.97, "housing": 0.6, "water": 0.7, "civil_affairs": 0.09})
    departments: list[str] = Field(default_factory=lambda: list(DEPARTMENTS))
    #: relative weights of the file formats, per department ("*" = default)
    format_weights: dict[str, dict[str, float]] = Field(default_factory=lambda: {
        "*": {"csv_utf8": 3, "csv_utf8_bom": 2, "csv_gb18030": 2, "xlsx": 2, "parquet": 1},
        "civil_affairs": {"xlsx": 4, "csv_gb18030": 1, "csv_utf8_bom": 1},
    })
    #: explicit format per "<department>/<county>" (wins over the weights)
    formats: dict[str, str] = Field(default_factory=dict)
    #: XLSX is slow to write: a file with more rows is written as CSV (GB18030) instead
    xlsx_max_rows: int = 3_000
    #: departments whose files never carry a date in the name (mtime = extract date)
    undated_departments: list[str] = Field(default_factory=lambda: ["water"])
    #: share of the other (department, county) pairs that also use undated names
    undated_rate: float = 0.1
    #: share of households whose members include a person with a minority (`·`) name
    minority_rate: float = 0.004
    #: share of persons forced to share the given name of a same-surname neighbour
    name_collision_rate: float = 0.01
    #: changes between consecutive snapshots (per household / person, per snapshot step)
    split_rate: float = 0.03
    merge_rate: float = 0.02
    move_rate: float = 0.01
    move_county_share: float = 0.25
    birth_rate: float = 0.03
    death_rate: float = 0.01
    assistance_enter_rate: float = 0.01
    assistance_leave_rate: float = 0.08
    insurance_lapse_rate: float = 0.01
    renovation_rate: float = 0.3
    water_fix_rate: float = 0.3
    #: monitoring line for the truth's income rule (yuan per person per year)
    income_line: float = 8000.0
    medical_burden_abs: float = 20000.0
    medical_burden_share: float = 0.5


class SynthSummary(BaseModel):
    """What :func:`synth.generate` wrote."""

    out_dir: Path
    households: int
    persons: dict[str, int]  # snapshot date -> living persons
    files: list[str]  # relative to out_dir
    rows: dict[str, int]  # department -> data rows written (all snapshots)
    defects: dict[str, int]  # defect kind -> count
    seconds: float

    def describe(self) -> str:
        """One paragraph for the CLI."""
        people = ", ".join(f"{d}: {n:,}" for d, n in self.persons.items())
        rows = ", ".join(f"{d} {n:,}" for d, n in self.rows.items())
        return (f"{self.households:,} households (people {people}) -> {len(self.files)} files in {self.out_dir} "
                f"[{rows}], {sum(self.defects.values()):,} defects logged in _truth/defects.parquet; {self.seconds:.1f}s")
