"""Orchestration: population -> snapshots -> department files + ground truth."""

from __future__ import annotations

import time
import zlib
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl

from synth import extracts, population, truth, writers
from synth.config import FORMATS, SynthConfig, SynthSummary
from synth.defects import DATE_FORMATS, Damager, FilePlan
from schemas.departments import columns as department_columns
from schemas.columns import Kind

DEPARTMENT_TITLES = {"education": "学生学籍信息表", "health": "城乡居民医保参保人员名单", "housing": "农村房屋安全鉴定台账",
                     "water": "农村饮水安全调查表", "civil_affairs": "低保对象花名册"}
COUNTY_NAMES = {"529901": "青石县", "529902": "白河县", "529903": "石门县", "529904": "长岭县"}


def _key(*parts: object) -> list[int]:
    return [zlib.crc32(str(p).encode()) for p in parts]


def file_format(config: SynthConfig, seed: int, department: str, county: str) -> str:
    explicit = config.formats.get(f"{department}/{county}")
    if explicit:
        return explicit
    weights = config.format_weights.get(department, config.format_weights.get("*", {}))
    names = [f for f in FORMATS if weights.get(f, 0) > 0]
    p = np.array([weights[f] for f in names], dtype=float)
    rng = np.random.default_rng([seed, *_key("format", department, county)])
    return names[rng.choice(len(names), p=p / p.sum())]


def is_dated(config: SynthConfig, seed: int, department: str, county: str) -> bool:
    if department in config.undated_departments:
        return False
    return np.random.default_rng([seed, *_key("dated", department, county)]).random() >= config.undated_rate


def file_name(department: str, county: str, snap: date, ext: str, dated: bool) -> str:
    if dated:
        return f"{county}_{snap:%Y%m%d}.{ext}"
    # what a clerk types: county, what the file is, the month; no parseable date
    return f"{COUNTY_NAMES.get(county, county)}{DEPARTMENT_TITLES[department]}_{snap.month}月.{ext}"


def generate(out_dir: Path, households: int = 2000, seed: int = 7, config: SynthConfig | None = None) -> SynthSummary:
    started = time.perf_counter()
    config = config or SynthConfig()
    out_dir = Path(out_dir)
    snaps = sorted(config.snapshot_dates)
    states = [population.initial_state(seed, households, config.model_copy(update={"snapshot_dates": snaps}))]
    for step, snap in enumerate(snaps[1:]):
        states.append(population.evolve(states[-1], snap, seed, step, config))

    records, defects, persons, rules, files = [], [], [], [], []
    rows: dict[str, int] = {d: 0 for d in config.departments}
    for step, state in enumerate(states):
        frames = extracts.build(state, seed, step, config.coverage)
        frames = {d: f for d, f in frames.items() if d in config.departments}
        persons.append(truth.persons_truth(state))
        rules.append(truth.household_rules(state, frames, config))
        hid_of = state.persons.select(pl.col("pid"), extracts.household_key().alias("household_key"))
        for department, frame in frames.items():
            for county in sorted(frame["_county"].drop_nulls().unique().to_list()):
                part = frame.filter(pl.col("_county") == county).sort("village_code", "record_id")
                written = _write_file(out_dir, department, county, state.snapshot, part, config, seed, step)
                files.append(written["path"])
                rows[department] += written["rows"]
                rec = written["truth"]
                role_frames = [
                    rec.filter(pl.col(col).is_not_null()).select(
                        "record_id", "row_number", pl.lit(role).alias("role"), pl.col(col).alias("pid"))
                    for col, role in truth.role_columns(department).items()]
                rec = pl.concat(role_frames).join(hid_of, on="pid", how="left").select(
                    pl.lit(department).alias("department"), pl.lit(written["name"]).alias("file_name"), "record_id",
                    pl.lit(state.snapshot).alias("snapshot_date"), "role", extracts.person_key().alias("person_key"),
                    "household_key", "row_number")
                records.append(rec)
                defects.append(written["log"].with_columns(
                    department=pl.lit(department), file_name=pl.lit(written["name"]), snapshot_date=pl.lit(state.snapshot)))

    truth_dir = out_dir / "_truth"
    truth_dir.mkdir(parents=True, exist_ok=True)
    pl.concat(records).sort("snapshot_date", "department", "file_name", "row_number", "role").write_parquet(truth_dir / "records.parquet")
    pl.concat(persons).write_parquet(truth_dir / "persons.parquet")
    pl.concat(rules).write_parquet(truth_dir / "household_rules.parquet")
    defect_frame = pl.concat(defects).select(
        "department", "file_name", "snapshot_date", "record_id", "row_number", "field", "defect").sort(pl.all(), nulls_last=True)
    defect_frame.write_parquet(truth_dir / "defects.parquet")
    events = [e for s in states for e in s.events]
    ev_schema = {"snapshot_date": pl.Date, "event": pl.String, "household_key": pl.String, "other_household_key": pl.String,
                 "person_key": pl.String}
    ev = (pl.concat(events).select(
        "snapshot_date", "event", extracts.household_key("hid").alias("household_key"),
        pl.when(pl.col("other_hid").is_not_null()).then(extracts.household_key("other_hid")).alias("other_household_key"),
        pl.when(pl.col("pid").is_not_null()).then(extracts.person_key("pid")).alias("person_key"))
          if events else pl.DataFrame(schema=ev_schema))
    ev.sort(pl.all(), nulls_last=True).write_parquet(truth_dir / "events.parquet")
    counts = defect_frame.group_by("defect").len().sort("defect")
    return SynthSummary(
        out_dir=out_dir, households=households,
        persons={s.snapshot.isoformat(): s.persons.height for s in states},
        files=sorted(files), rows=rows, defects=dict(zip(counts["defect"], counts["len"], strict=True)),
        seconds=round(time.perf_counter() - started, 2))


def _write_file(out_dir: Path, department: str, county: str, snap: date, part: pl.DataFrame, config: SynthConfig,
                seed: int, step: int) -> dict:
    rng = np.random.default_rng([seed, step, *_key(department, county)])
    fmt = file_format(config, seed, department, county)
    if fmt == "xlsx" and part.height > config.xlsx_max_rows:
        fmt = "csv_gb18030"
    dated = is_dated(config, seed, department, county)
    name = file_name(department, county, snap, writers.EXTENSIONS[fmt], dated)
    rates = config.defects
    title_rows: list[str] = []
    if fmt == "xlsx":
        n_titles = int(rng.choice([0, 1, 2], p=[0.3, 0.45, 0.25]))
        title = f"{COUNTY_NAMES.get(county, county)}{snap.year}年{DEPARTMENT_TITLES[department]}"
        title_rows = [title, f"填报日期：{snap.year}年{snap.month}月{snap.day}日"][:n_titles]
    plan = FilePlan(
        english_headers=bool(rng.random() < rates.header_english_file),
        date_format=str(rng.choice(DATE_FORMATS[1:])) if rng.random() < rates.file_date_format else "iso",
        grade_style="zh" if rng.random() < 0.6 else "number",
        title_rows=title_rows, excel_dates=fmt == "xlsx" and bool(rng.random() < 0.5))
    part = part.with_columns(_true_rid=pl.col("record_id"))
    damaged = Damager(department, rates, rng).damage(part, plan)
    start = writers.first_data_row(fmt, len(title_rows))
    date_cols = set()
    if plan.excel_dates and plan.date_format == "iso":
        date_headers = {s.name for s in department_columns(department) if s.kind == Kind.DATE}
        date_cols = {h for h, c in zip(damaged.frame.columns, [c for c in part.columns if not c.startswith("_")], strict=True)
                     if c in date_headers}
    path = out_dir / department / name
    writers.write(damaged.frame, path, fmt, title_rows, date_cols, snap)
    log = damaged.log.select(
        pl.col("_true_rid").alias("record_id"), (pl.col("_out") + start).cast(pl.Int32).alias("row_number"), "field", "defect")
    file_level = []
    if plan.date_format != "iso":
        file_level.append(("date_format_" + plan.date_format))
    if date_cols:
        file_level.append("date_excel_cells")
    if title_rows:
        file_level.append("title_rows")
    if not dated:
        file_level.append("undated_file_name")
    if file_level:
        log = pl.concat([log, pl.DataFrame({"record_id": [None] * len(file_level), "row_number": [None] * len(file_level),
                                            "field": [None] * len(file_level), "defect": file_level},
                                           schema=log.schema)])
    tr = damaged.truth_rows.with_columns(record_id=pl.col("_true_rid"), row_number=(pl.col("_out") + start).cast(pl.Int32))
    return {"path": f"{department}/{name}", "name": name, "rows": damaged.frame.height, "truth": tr, "log": log}
