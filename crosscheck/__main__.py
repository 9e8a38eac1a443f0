"""``python -m crosscheck --households 3000 --seed 1 --out DIR``: generate, run Hearth, report.

Writes ``DIR/landing`` (extracts + ``_truth``), runs ``pipelines.run.run_pipeline`` into ``DIR/data``, then
prints (and writes to ``DIR/report.json``) the row accounting, linkage quality with the mislinked records
by department, role and defect, ID stability, and rule quality. ``--staged`` runs the pipeline once on
the first snapshot, then again once the second is dropped (next month's run, IDs carried over).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

import polars as pl

from crosscheck import report
from crosscheck.generate import generate


def run(out: Path, households: int, seed: int, staged: bool = False, rules: bool = True) -> dict:
    from pipelines.run import run_pipeline
    from pipelines.settings import HearthSettings

    out = Path(out)
    if out.exists():
        shutil.rmtree(out)
    landing = out / "landing"
    settings = HearthSettings(data_dir=out / "data", landing_dir=landing, demo=True, quiet_seconds=0)
    result: dict = {"households": households, "seed": seed, "runs": []}
    started = time.perf_counter()
    for snapshots in (((0,), (1,)) if staged else (None,)):
        generate(landing, households, seed, only_snapshots=snapshots)
        outcome = run_pipeline(settings)
        result["runs"].append({"success": outcome.success, "seconds": round(outcome.seconds, 1),
                               "failed_steps": outcome.failed_steps, "failed_checks": outcome.failed_checks,
                               "warnings": outcome.warnings})
    result["pipeline_seconds"] = round(time.perf_counter() - started, 1)
    files = report.accounting(landing, settings.state)
    result["files"] = files.drop("snapshot_date").rows(named=True)
    result["files_not_ok"] = files.filter(~pl.col("ok").fill_null(False)).drop("snapshot_date").rows(named=True)
    result["linkage"] = report.linkage(landing, settings.state)
    if rules and settings.warehouse.exists():
        result["rules"] = report.rule_quality(settings.warehouse, landing)
    return result


def print_summary(result: dict) -> None:
    files = pl.DataFrame(result["files"], infer_schema_length=None)
    print(f"households {result['households']}, seed {result['seed']}; pipeline "
          + "; ".join(f"{'ok' if r['success'] else 'FAILED'} {r['seconds']} s" for r in result["runs"]))
    for r in result["runs"]:
        for line in r["failed_steps"] + r["failed_checks"] + r["warnings"]:
            print("  ", line)
    with pl.Config(tbl_rows=100, tbl_cols=20, tbl_width_chars=220, fmt_str_lengths=36):
        print(files.select("department", "file_name", "format", "encoding", "headers",
                           pl.format("{}/{}", "rows_written", "rows_read").alias("written/read"),
                           pl.format("{}/{}", "expect_accepted", "rows_accepted").alias("accepted exp/got"),
                           pl.format("{}/{}", "expect_quarantined", "rows_quarantined").alias("quarantined"),
                           pl.format("{}/{}", "expect_blank", "blank_rows").alias("blank"),
                           "broken", "status", "reported", "ok"))
    data = files.filter(pl.col("data_file"))
    print(f"(a) data files {data.height}: rows written {data['rows_written'].sum()}, read {data['rows_read'].sum()}, "
          f"accepted {data['rows_accepted'].sum()} (expected {data['expect_accepted'].sum()}), quarantined "
          f"{data['rows_quarantined'].sum()} (expected {data['expect_quarantined'].sum()}), blank "
          f"{data['blank_rows'].sum()} (expected {data['expect_blank'].sum()}); files not as expected: "
          f"{len(result['files_not_ok'])}")
    broken = files.filter(pl.col("broken").is_not_null())
    print(f"    broken on purpose {broken.height}, reported {broken['reported'].sum()}")
    link = result["linkage"]
    q, s = link["quality"], link["id_stability"]
    print(f"(b) person F1 {q['person']['f1']} (P {q['person']['precision']}, R {q['person']['recall']}), "
          f"household F1 {q['household']['f1']} (P {q['household']['precision']}, R {q['household']['recall']}); "
          f"ID stability person {s['person']}, household {s['household']} (entity {s['household_entity']})")
    print(f"    mentions without truth: {link['unmatched_mentions']}; truth mentions Hearth has not: "
          f"{link['truth_mentions_not_linked']}")
    for level in ("person", "household"):
        errors = link["errors"][level]
        print(f"    {level}: {errors['wrong_mentions']} mentions on the wrong side of a boundary")
        for row in errors["by_role"]:
            if row["split_off"] or row["merged_in"]:
                print(f"      {row['department']}/{row['role']}: {row['split_off']} split off, "
                      f"{row['merged_in']} merged in, of {row['mentions']}")
        worst = [t for t in errors["by_tag"] if t["split_off"] or t["merged_in"]][:8]
        print("      by tag: " + ", ".join(f"{t['tag']} {t['error_rate']:.2%} of {t['mentions']}" for t in worst))
    if "rules" in result:
        print("(c) rules: " + "; ".join(f"{k} P {v['precision']} R {v['recall']} (tp {v['tp']} fp {v['fp']} "
                                        f"fn {v['fn']})" for k, v in result["rules"].items()))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--staged", action="store_true", help="run once per snapshot, as month after month")
    args = parser.parse_args(argv)
    result = run(args.out, args.households, args.seed, staged=args.staged)
    (args.out / "report.json").write_text(json.dumps(result, ensure_ascii=False, indent=1, default=str) + "\n",
                                          encoding="utf-8")
    print_summary(result)
    sys.exit(0 if all(r["success"] for r in result["runs"]) else 1)


if __name__ == "__main__":
    main()
