"""The synthetic generator: determinism, valid truth, every defect and format, snapshots, truth consistency."""

from __future__ import annotations

import hashlib
import io
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from synth import DefectRates, SynthConfig, generate
from synth.config import FORMATS
from synth.ids import is_valid

HOUSEHOLDS = 600
# every format at least once, whatever the seed picks
ALL_FORMATS = {f"{dept}/{county}": fmt for (dept, county), fmt in zip(
    [("health", "529901"), ("health", "529902"), ("health", "529903"), ("health", "529904"), ("civil_affairs", "529901")],
    FORMATS, strict=True)}


def _config(**kw) -> SynthConfig:
    return SynthConfig(formats=ALL_FORMATS, **kw)


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("synth")
    # defect rates raised so that a small population shows every kind
    rates = DefectRates(**{k: min(0.5, v * 3) for k, v in DefectRates().model_dump().items()})
    generate(out, households=HOUSEHOLDS, seed=11, config=_config(defects=rates, split_rate=0.1, move_rate=0.05,
                                                                  merge_rate=0.2))
    return out


def _hashes(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_seed_same_bytes(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    generate(a, households=150, seed=3, config=_config())
    generate(b, households=150, seed=3, config=_config())
    assert _hashes(a) == _hashes(b)
    c = tmp_path / "c"
    generate(c, households=150, seed=4, config=_config())
    assert _hashes(a) != _hashes(c)


def test_truth_ids_are_valid(run):
    persons = pl.read_parquet(run / "_truth" / "persons.parquet")
    assert persons.height > HOUSEHOLDS * 2.5
    assert all(is_valid(i) for i in persons["id_number"].unique().to_list())
    # birth date and sex agree with the ID
    ok = persons.select(
        (pl.col("id_number").str.slice(6, 8) == pl.col("birth_date").dt.strftime("%Y%m%d")).all().alias("birth"),
        ((pl.col("id_number").str.slice(16, 1).cast(pl.Int32) % 2 == 1) == (pl.col("gender") == "男")).all().alias("sex"))
    assert ok.row(0) == (True, True)
    # one ID per person, stable across snapshots
    assert persons.group_by("person_key").agg(pl.col("id_number").n_unique())["id_number"].max() == 1
    assert persons.group_by("snapshot_date", "id_number").len()["len"].max() == 1


def test_every_defect_kind_present(run):
    defects = pl.read_parquet(run / "_truth" / "defects.parquet")
    found = set(defects["defect"].unique().to_list())
    expected = {k for k in DefectRates.model_fields if k not in ("header_english_file", "file_date_format")}
    expected |= {"header_english", "header_unit_suffix", "header_fullwidth_bracket", "undated_file_name", "title_rows"}
    assert expected - found == set()
    # cell defects point at a real record row
    cells = defects.filter(pl.col("field").is_not_null() & pl.col("row_number").is_not_null())
    assert cells["record_id"].null_count() == 0


def test_every_format_and_encoding(run):
    files = [p for p in run.rglob("*") if p.is_file() and "_truth" not in p.parts]
    suffixes = {p.suffix for p in files}
    assert suffixes == {".csv", ".xlsx", ".parquet"}
    csvs = [p.read_bytes() for p in files if p.suffix == ".csv"]
    assert any(b.startswith(b"\xef\xbb\xbf") for b in csvs)
    gb = [b for b in csvs if not b.startswith(b"\xef\xbb\xbf") and not _is_utf8(b)]
    assert gb and all(b.decode("gb18030") for b in gb)
    assert any(_is_utf8(b) and not b.startswith(b"\xef\xbb\xbf") for b in csvs)
    # undated names carry the extract date in the mtime
    undated = [p for p in files if not p.name[:6].isdigit()]
    assert undated
    for p in undated:
        assert date.fromtimestamp(p.stat().st_mtime) in (date(2026, 1, 5), date(2026, 7, 5))


def _is_utf8(b: bytes) -> bool:
    try:
        b.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def test_two_snapshots_with_changes(run):
    persons = pl.read_parquet(run / "_truth" / "persons.parquet")
    assert sorted(persons["snapshot_date"].unique().to_list()) == [date(2026, 1, 5), date(2026, 7, 5)]
    events = pl.read_parquet(run / "_truth" / "events.parquet")
    kinds = set(events["event"].to_list())
    assert {"split", "move", "merge", "birth", "death"} <= kinds
    split = events.filter(pl.col("event") == "split").row(0, named=True)
    later = persons.filter(pl.col("snapshot_date") == date(2026, 7, 5))
    new_members = later.filter(pl.col("household_key") == split["household_key"])
    before = persons.filter((pl.col("snapshot_date") == date(2026, 1, 5))
                            & pl.col("person_key").is_in(new_members["person_key"].implode()))
    assert set(before["household_key"].to_list()) == {split["other_household_key"]}
    assert "户主" in new_members["relation"].to_list()
    # records stable: the same person keeps the same health record id
    rec = pl.read_parquet(run / "_truth" / "records.parquet").filter(pl.col("department") == "health")
    per = rec.group_by("person_key").agg(pl.col("record_id").n_unique())
    assert per["record_id"].max() == 1
    rules = pl.read_parquet(run / "_truth" / "household_rules.parquet")
    assert set(rules["rule"].unique().to_list()) == {"education", "insurance", "medical_burden", "housing", "water", "income"}
    assert rules.group_by("rule").agg(pl.col("fails").any())["fails"].all()


def _read(path: Path) -> pl.DataFrame:
    if path.suffix == ".parquet":
        return pl.read_parquet(path)
    if path.suffix == ".xlsx":
        raw = pl.read_excel(path, has_header=False, infer_schema_length=0)
        header = next(i for i, row in enumerate(raw.iter_rows()) if sum(v is not None for v in row) > 3)
        frame = raw.slice(header + 1)
        return frame.rename(dict(zip(frame.columns, [str(v) for v in raw.row(header)], strict=True)))
    data = path.read_bytes()
    text = data.decode("utf-8-sig") if _is_utf8(data) else data.decode("gb18030")
    return pl.read_csv(io.StringIO(text), infer_schema=False)


def test_every_extract_record_is_in_the_truth(run):
    records = pl.read_parquet(run / "_truth" / "records.parquet")
    assert not list(run.glob("*/_*")) and not list(run.glob("*/*truth*"))
    checked = 0
    for path in sorted(run.rglob("*")):
        if not path.is_file() or "_truth" in path.parts:
            continue
        frame = _read(path)
        rid_col = next(c for c in frame.columns if c.strip() in ("record_id", "学籍号", "学籍编号", "人员编号", "个人编号", "鉴定编号",
                                                                 "编号", "调查编号", "记录编号"))
        found = set(frame[rid_col].drop_nulls().to_list())
        truth = set(records.filter((pl.col("department") == path.parent.name) & (pl.col("file_name") == path.name))["record_id"])
        assert found and found <= truth, path
        checked += 1
    assert checked >= 20


def test_households_realistic(run):
    persons = pl.read_parquet(run / "_truth" / "persons.parquet").filter(pl.col("snapshot_date") == date(2026, 1, 5))
    sizes = persons.group_by("household_key").len()["len"]
    assert sizes.min() >= 1 and sizes.max() <= 9 and 2.8 < sizes.mean() < 4.2
    assert persons.group_by("household_key").agg((pl.col("relation") == "户主").sum())["relation"].to_list() == [1] * sizes.len()
    assert {"户主", "配偶", "子", "女", "孙子", "孙女", "儿媳", "母亲"} <= set(persons["relation"].to_list())
    # registration county differs from residence for some
    assert (persons["id_number"].str.slice(0, 6) != persons["village_code"].str.slice(0, 6)).any()
