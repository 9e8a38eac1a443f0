"""schemas.validate on random frames: every row is accepted, quarantined or blank, exactly once."""

from __future__ import annotations

import json
from datetime import date

import polars as pl
import pytest
from hypothesis import given, strategies as st

from fuzz_support import fuzz_settings
from schemas.departments import DEPARTMENTS, columns
from schemas.validate import QUARANTINE_SCHEMA, FileMeta, accepted_schema, validate
from strategies import any_value

META = FileMeta(file_id="0123456789abcdef", file_name="529901_20260105.csv", snapshot_date=date(2026, 1, 5),
                county_from_name="529901")


@st.composite
def department_frames(draw, department: str) -> pl.DataFrame:
    """Some of the department's columns, random cells, and repeats of earlier rows (duplicates, id clashes)."""
    names = [s.name for s in columns(department)]
    present = draw(st.lists(st.sampled_from(names), unique=True, max_size=len(names)))
    rows = draw(st.lists(st.fixed_dictionaries({n: any_value for n in present}), max_size=15))
    for _ in range(draw(st.integers(0, 3)) if rows else 0):
        repeated = dict(draw(st.sampled_from(rows)))
        if present and draw(st.booleans()):
            repeated[draw(st.sampled_from(present))] = draw(any_value)
        rows.insert(draw(st.integers(0, len(rows))), repeated)
    frame = pl.DataFrame(rows, schema={n: pl.String for n in present}) if present else pl.DataFrame(
        {"unknown": [None] * len(rows)}, schema={"unknown": pl.String})
    return frame.with_columns(row_number=pl.int_range(2, pl.len() + 2, dtype=pl.Int32))


@pytest.mark.parametrize("department", DEPARTMENTS)
@fuzz_settings(0.1)
@given(data=st.data())
def test_every_row_is_accepted_quarantined_or_blank(department, data):
    frame = data.draw(department_frames(department))
    result = validate(frame, department, META)
    assert frame.height == result.accepted.height + result.quarantine.height + result.blank_rows
    assert result.accepted.schema == pl.Schema(accepted_schema(department))
    assert result.quarantine.schema == pl.Schema(QUARANTINE_SCHEMA)
    kept = result.accepted["row_number"].to_list() + result.quarantine["row_number"].to_list()
    assert len(kept) == len(set(kept)) and set(kept) <= set(frame["row_number"].to_list())
    assert sum(result.reject_reasons.values()) == result.quarantine.height
    assert result.quarantine["reason"].null_count() == 0
    for raw_row in result.quarantine["raw_row"]:
        json.loads(raw_row)
