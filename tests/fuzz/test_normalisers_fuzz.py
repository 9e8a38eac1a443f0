"""Every normaliser on arbitrary unicode: never raises, types as in docs/contracts.md, idempotent.

Idempotent means: feeding a normalised value back in gives the same value
(a normalised name stays that name, a valid ID stays valid, a date stays
that date), which is what lets a rerun or an already-clean extract change
nothing.
"""

from __future__ import annotations

import re
from datetime import date

import polars as pl
import pytest
from hypothesis import given, strategies as st

from fuzz_support import fuzz_settings
from schemas.columns import ColumnSpec, Kind
from schemas.departments import DEPARTMENTS, columns
from schemas.normalise import run
from schemas.normalise.id_number import STATUSES
from schemas.validate import field_schema, field_stages
from strategies import any_value, cell_values, legacy_ids, written_ids

ADDRESS = "address"
WHITE_SPACE = re.compile("[\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]")
#: one spec per kind (and per distinct set of values), from the department models themselves.
SPECS: dict[str, ColumnSpec] = {}
for _department in DEPARTMENTS:
    for _spec in columns(_department):
        SPECS.setdefault(f"{_spec.kind.value}:{sorted(_spec.column.values)}", _spec)


def normalise(spec: ColumnSpec, values: list[str | None], addresses: list[str | None] | None = None) -> pl.DataFrame:
    frame = pl.DataFrame({spec.name: values, ADDRESS: addresses or [None] * len(values)},
                         schema={spec.name: pl.String, ADDRESS: pl.String})
    address = ADDRESS if spec.kind == Kind.VILLAGE_CODE else None
    out = run(frame, field_stages(spec, address, county_hint="529901"))
    expected = {name: dtype for name, dtype in field_schema(spec).items() if not name.endswith("_raw")}
    assert {name: out.schema[name] for name in expected} == expected
    assert out.height == len(values)
    return out


def as_text(value) -> str | None:
    """A normalised value written back as a department would (dates ISO, numbers plain)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return value.isoformat() if isinstance(value, date) else str(value)


@pytest.mark.parametrize("spec", list(SPECS.values()), ids=list(SPECS))
@fuzz_settings(0.15)
@given(values=st.lists(any_value, max_size=12), addresses=st.lists(st.one_of(st.none(), st.text(max_size=20),
                                                                           st.sampled_from(["营坝村3组", "湾湾镇营坝村"])),
                                                                 min_size=12, max_size=12))
def test_never_raises_types_hold_and_normalised_is_a_fixed_point(spec, values, addresses):
    out = normalise(spec, values, addresses[: len(values)])
    again = normalise(spec, [as_text(v) for v in out[spec.name].to_list()], addresses[: len(values)])
    if spec.kind == Kind.VILLAGE_CODE:
        # a code found from the address is given next time: same code, now "given"
        assert again[spec.name].to_list() == out[spec.name].to_list()
    elif spec.kind == Kind.ID_NUMBER:
        statuses = out[f"{spec.name}_status"].to_list()
        assert set(statuses) <= set(STATUSES)
        for before, after, status, status_again in zip(out[spec.name], again[spec.name], statuses,
                                                       again[f"{spec.name}_status"]):
            if status in ("valid", "legacy_converted"):
                assert (after, status_again) == (before, "valid")
            elif status == "bad_check_digit":
                assert (after, status_again) == (before, "bad_check_digit")
    else:
        assert again[spec.name].to_list() == out[spec.name].to_list()
    if spec.kind == Kind.NAME:
        assert again[f"{spec.name}_pinyin"].to_list() == out[f"{spec.name}_pinyin"].to_list()
        for name, pinyin in zip(out[spec.name], out[f"{spec.name}_pinyin"]):
            # Unicode White_Space, as polars strips it (Python's strip also takes \x1c-\x1f)
            assert name is None or not WHITE_SPACE.search(name)
            assert pinyin is None or pinyin == pinyin.strip(" ")


ID_SPEC = columns("civil_affairs")[[s.name for s in columns("civil_affairs")].index("id_number")]


@fuzz_settings(0.4)
@given(ids=st.lists(written_ids, min_size=1, max_size=10))
def test_a_valid_id_however_written_is_valid(ids):
    out = normalise(ID_SPEC, ids)
    assert out["id_number_status"].to_list() == ["valid"] * len(ids)
    assert all(len(i) == 18 for i in out["id_number"])
    assert out["id_number_birth_date"].null_count() == 0 and out["id_number_gender"].null_count() == 0


@fuzz_settings(0.3)
@given(ids=st.lists(legacy_ids, min_size=1, max_size=10))
def test_legacy_15_digit_ids_convert_to_valid_18(ids):
    out = normalise(ID_SPEC, ids)
    assert out["id_number_status"].to_list() == ["legacy_converted"] * len(ids)
    assert normalise(ID_SPEC, out["id_number"].to_list())["id_number_status"].to_list() == ["valid"] * len(ids)


@fuzz_settings(1.0)
@given(text=cell_values())
def test_headers_never_raise(text):
    from schemas.headers import guess_department, header_key, match_headers

    headers = [text or "", "姓名", text or ""]
    header_key(text or "")
    for department in DEPARTMENTS:
        match = match_headers(headers, department)
        assert set(match.mapping) | set(match.unknown) == set(headers)
    guess_department(headers)
