"""A large synthetic drop for the warehouse benchmark (vectorised: no Python loop per row).

    .venv/bin/python tests/warehouse/scale.py [households] [out_dir]

builds and publishes the warehouse for ``households`` households (default
100,000: ~1M department rows over two snapshots) and prints the timings.
"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).parent))

from wh_factory import POLARS_TYPE  # noqa: E402
from warehouse.ddl import source_columns  # noqa: E402
from warehouse.load import WarehouseInputs  # noqa: E402

SNAPSHOTS = (date(2024, 1, 31), date(2024, 8, 31))
COUNTIES = ("522601", "522602", "522623", "522624")


def _typed(department: str, df: pl.DataFrame) -> pl.DataFrame:
    cols = source_columns(department)
    return df.with_columns([pl.lit(None, dtype=POLARS_TYPE[t]).alias(c) for c, t in cols.items() if c not in df.columns]
                           ).select([pl.col(c).cast(POLARS_TYPE[t]) for c, t in cols.items()])


def generate(households: int, seed: int = 7) -> WarehouseInputs:
    rng = np.random.default_rng(seed)
    n_members = rng.integers(1, 6, households)
    hh_of_person = np.repeat(np.arange(households), n_members)
    n_persons = len(hh_of_person)
    county = np.array(COUNTIES)[np.arange(households) % len(COUNTIES)]
    person_ids = np.char.add("P", np.arange(n_persons).astype(str))
    hh_ids = np.char.add("H", np.arange(households).astype(str))
    birth = (np.datetime64("1940-01-01") + rng.integers(0, 30000, n_persons)).astype("datetime64[D]")
    ids = np.char.add(np.char.add(county[hh_of_person], pl.Series(birth).dt.strftime("%Y%m%d").to_numpy().astype(str)),
                      np.char.zfill(rng.integers(0, 9999, n_persons).astype(str), 4))
    surnames = np.array(list("王李张刘陈杨黄赵吴周"))
    given = np.array(list("伟芳娜秀英敏静丽强磊军洋勇艳杰"))
    names = np.char.add(np.char.add(surnames[rng.integers(0, 10, n_persons)], given[rng.integers(0, 15, n_persons)]),
                        given[rng.integers(0, 15, n_persons)])
    persons = pl.DataFrame({"person_id": person_ids, "household_id": hh_ids[hh_of_person], "name": names,
                            "id_number": ids, "birth_date": birth, "county": county[hh_of_person]})
    accepted: dict[str, list[pl.DataFrame]] = {d: [] for d in ("education", "health", "housing", "water", "civil_affairs")}
    links = []
    heads = persons.group_by("household_id", maintain_order=True).first()
    for k, snapshot in enumerate(SNAPSHOTS):
        def meta(df: pl.DataFrame, department: str, rid_prefix: str) -> pl.DataFrame:
            df = df.with_columns(
                pl.lit(department).alias("department"), pl.lit(f"{department[:3]}{k}").alias("file_id"),
                pl.lit(f"x_{snapshot:%Y%m%d}.csv").alias("file_name"),
                pl.int_range(pl.len(), dtype=pl.Int32).alias("row_number"), pl.lit(snapshot).alias("snapshot_date"),
                (pl.col("county") + "101001").alias("village_code"),
                (pl.lit(rid_prefix) + pl.col("person_id")).alias("record_id"))
            links.append(df.select(pl.lit(department).alias("department"), "record_id", "snapshot_date", "person_id",
                                   "household_id", pl.lit(None, dtype=pl.Float64).alias("match_weight"),
                                   pl.lit("id_exact").alias("method")))
            accepted[department].append(_typed(department, df))
            return df

        age = (pl.lit(snapshot) - pl.col("birth_date")).dt.total_days() / 365.25
        r = lambda n: rng.random(n)  # noqa: E731
        kids = persons.filter(age.is_between(6, 18))
        meta(kids.with_columns(pl.Series("status", np.where(r(kids.height) < 0.01 + 0.01 * k, "辍学", "在读")),
                               pl.lit("valid").alias("id_number_status")), "education", "E")
        health = persons.filter(pl.Series(r(persons.height) < 0.97))
        meta(health.with_columns(pl.Series("insured", np.where(r(health.height) < 0.02, "未参保", "已参保")),
                                 pl.Series("out_of_pocket", rng.exponential(2000, health.height)),
                                 pl.lit("valid").alias("id_number_status")), "health", "M")
        meta(heads.with_columns(pl.Series("grade", np.array(list("ABBBBBCD"))[rng.integers(0, 8, heads.height)]),
                                pl.Series("renovation", np.where(r(heads.height) < 0.5, "已改造", "未改造")),
                                pl.col("name").alias("owner_name")), "housing", "F")
        meta(heads.with_columns(pl.Series("quality_ok", r(heads.height) > 0.03), pl.lit(True).alias("quantity_ok"),
                                pl.lit(True).alias("convenience_ok"), pl.lit(True).alias("reliability_ok"),
                                pl.col("name").alias("head_name")), "water", "W")
        assisted = persons.filter(pl.col("household_id").is_in(hh_ids[: households // 5].tolist()))
        meta(assisted.with_columns(pl.Series("per_capita_income", rng.normal(9000, 1500, assisted.height)),
                                   pl.lit("低保").alias("assistance_type"), pl.lit("在保").alias("status")),
             "civil_affairs", "C")
    return WarehouseInputs(
        accepted={d: pl.concat(frames) for d, frames in accepted.items()},
        links=pl.concat(links),
        person=persons.select("person_id", "name", "id_number", "birth_date",
                              (pl.col("county") + "101001").alias("village_code"), pl.lit(1).alias("n_records")),
        household=heads.select("household_id", pl.col("person_id").alias("head_person_id"),
                               (pl.col("county") + "101001").alias("village_code")),
        household_member=persons.select("household_id", "person_id"),
    )


def main() -> None:
    from warehouse.build import RunInfo, build_warehouse
    from warehouse.privacy import PseudonymKey
    from warehouse.publish import publish, staging_path

    households = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    out = Path(sys.argv[2]) if len(sys.argv) > 2 else Path(tempfile.mkdtemp())
    inputs = generate(households)
    rows = sum(df.height for df in inputs.accepted.values())
    print(f"{households} households, {rows} department rows, {inputs.links.height} links")
    t0 = time.perf_counter()
    target = out / "warehouse.duckdb"
    result = build_warehouse(inputs, staging_path(target, "bench"), RunInfo("bench"), key=PseudonymKey(b"bench"))
    t1 = time.perf_counter()
    print(f"build {t1 - t0:.1f}s {result.timings}; ok={result.ok} {result.failed()}", flush=True)
    publish(result.path, target)
    t2 = time.perf_counter()
    print(f"build {t1 - t0:.1f}s {result.timings}; publish {t2 - t1:.1f}s; total {t2 - t0:.1f}s; ok={result.ok}")
    print({k: v for k, v in result.counts.items() if k.startswith(("core", "monitor"))})


if __name__ == "__main__":
    main()
