"""Headline figures of one size's phases, the targets they are held to, and the Markdown table."""

from __future__ import annotations

LINKAGE_STAGES = ("normalise", "block", "compare", "score", "cluster", "households", "outputs")


def ratio(numerator, denominator):
    return round(numerator / denominator, 2) if numerator is not None and denominator else None


def phase_figures(run: dict, name: str) -> dict:
    """A phase's figures, also when it did not succeed (a failed ``hearth run`` still timed its steps)."""
    return run["phases"].get(name) or {}


def summarise(run: dict, targets: dict) -> dict:
    """Flat headline figures of one size (``None`` where a phase did not run or failed)."""
    synth, plain, ingest = phase_figures(run, "synth"), phase_figures(run, "plain_read"), phase_figures(run, "ingest")
    linkage, warehouse, e2e = phase_figures(run, "linkage"), phase_figures(run, "warehouse"), phase_figures(run, "e2e")

    def fmt(phase: dict, fmt_name: str, field: str):
        return (phase.get("by_format") or {}).get(fmt_name, {}).get(field)

    counties = phase_figures(run, "counties")
    quality = linkage.get("quality") or {}
    stability = linkage.get("id_stability") or {}
    summary = {
        "synth_seconds": synth.get("seconds"), "synth_cpu_seconds": synth.get("cpu_seconds"),
        "synth_peak_rss_mb": synth.get("process", {}).get("peak_rss_mb"), "rows": synth.get("rows_total"),
        "ingest_seconds": ingest.get("seconds"), "ingest_cpu_seconds": ingest.get("cpu_seconds"),
        "ingest_rows": ingest.get("rows_read"), "ingest_rows_per_second": ingest.get("rows_per_second"),
        "ingest_peak_rss_mb": ingest.get("process", {}).get("peak_rss_mb"),
        "plain_read_csv_seconds": fmt(plain, "csv", "seconds"), "plain_read_all_seconds": fmt(plain, "all", "seconds"),
        "ingest_workers": ingest.get("workers"),
        # The drop as a run ingests it (every department, files side by side) against reading its files
        # one by one with polars; the per-file sums below compare the same files, one process each.
        "ingest_vs_plain_read_ratio": ratio(ingest.get("seconds"), fmt(plain, "all", "seconds")),
        "ingest_vs_plain_read_ratio_csv": ratio(fmt(ingest, "csv", "seconds"), fmt(plain, "csv", "seconds")),
        "ingest_vs_plain_read_ratio_all": ratio(fmt(ingest, "all", "seconds"), fmt(plain, "all", "seconds")),
        "ingest_vs_plain_read_cpu_ratio": ratio(fmt(ingest, "csv", "cpu_seconds"), fmt(plain, "csv", "cpu_seconds")),
        "ingest_vs_plain_read_cpu_ratio_all": ratio(fmt(ingest, "all", "cpu_seconds"),
                                                    fmt(plain, "all", "cpu_seconds")),
        "plain_read_errors": len(plain.get("errors") or []) if plain else None,
        # The least any ingestion keeping the contract does (bench.phases.ingestion_floor), file by file as
        # the plain read: what is left of the 3x for validating and normalising is 3 minus this.
        "ingest_floor_seconds": fmt(plain, "all", "floor_seconds"),
        "ingest_floor_vs_plain_read_ratio": ratio(fmt(plain, "all", "floor_seconds"), fmt(plain, "all", "seconds")),
        "linkage_seconds": linkage.get("seconds"), "linkage_cpu_seconds": linkage.get("cpu_seconds"),
        "linkage_peak_rss_mb": linkage.get("process", {}).get("peak_rss_mb"),
        "linkage_records": linkage.get("records"),
        "linkage_stage_seconds": {s: v["seconds"] for s, v in (linkage.get("stages") or {}).items()},
        "linkage_stage_peak_rss_mb": {s: v["peak_rss_mb"] for s, v in (linkage.get("stages") or {}).items()},
        "warehouse_seconds": warehouse.get("seconds"), "warehouse_cpu_seconds": warehouse.get("cpu_seconds"),
        "warehouse_build_seconds": warehouse.get("build_seconds"),
        "warehouse_publish_seconds": warehouse.get("publish_seconds"),
        "warehouse_peak_rss_mb": warehouse.get("process", {}).get("peak_rss_mb"),
        "e2e_seconds": e2e.get("seconds"), "e2e_cpu_seconds": e2e.get("cpu_seconds"),
        "e2e_peak_rss_mb": e2e.get("peak_rss_mb"),
        "counties_combined_seconds": counties.get("combined_seconds"),
        "counties_pool_seconds": counties.get("pool_seconds"),
        "counties_dagster_seconds": counties.get("dagster_seconds"),
        "counties_same_record_link": (counties.get("pool_same_record_link") and counties.get("dagster_same_record_link"))
        if counties else None,
        "person_f1": (quality.get("person") or {}).get("f1"),
        "household_f1": (quality.get("household") or {}).get("f1"),
        "person_id_stability": stability.get("person"), "household_id_stability": stability.get("household"),
        "household_entity_id_stability": stability.get("household_entity"),
        "household_every_pair_id_stability": stability.get("household_every_pair"),
    }
    summary["targets"] = {name: target_check(summary.get(name), target, run["households"])
                          for name, target in targets.items()}
    return summary


def target_check(value, target: dict, households: int) -> dict:
    """Whether ``value`` meets ``target``; ``applies`` is False below the size a target is stated for."""
    applies = households >= target.get("households", 0)
    met = None if value is None else value <= target["max"]
    return {"value": value, "max": target["max"], "applies": applies, "met": met}


def seconds_cell(wall, cpu=None) -> str:
    if wall is None:
        return "–"
    return f"{wall:.1f} s" + (f" (CPU {cpu:.1f} s)" if cpu is not None else "")


def memory_cell(mb) -> str:
    if mb is None:
        return "–"
    return f"{mb / 1024:.2f} GB" if mb >= 1024 else f"{mb:.0f} MB"


def number_cell(value, digits: int = 0) -> str:
    if value is None:
        return "–"
    return f"{value:,.{digits}f}"


def marked(cell: str, check: dict | None) -> str:
    """The cell with ✓/✗ where a target applies to this size."""
    if not check or not check["applies"] or check["met"] is None:
        return cell
    return f"{cell} {'✓' if check['met'] else '✗'}"


def markdown(results: dict) -> str:
    runs = [r for r in results.get("runs", []) if r]
    machine, git = results.get("machine", {}), results.get("git", {})
    load = machine.get("load_average_start")
    lines = []
    if results.get("label"):
        lines += [f"**{results['label']}**", ""]
    lines += [
        f"Measured {results.get('date', '?')[:10]} on {machine.get('cores')} cores "
        f"({machine.get('cpu_model') or 'unknown CPU'}), {machine.get('memory_gb')} GB RAM, "
        f"load average at start {', '.join(str(x) for x in load) if load else '?'}; "
        f"commit `{(git.get('commit') or '?')[:10]}`{' with uncommitted changes' if git.get('dirty') else ''}. "
        "Wall time with CPU time (user + sys, steadier on a loaded machine) beside it; "
        "peak memory is each phase's process peak RSS. ✓/✗: target met, where it applies to the size.",
        "",
    ]
    header = ["", *[f"{r['households']:,} households" for r in runs], "target"]
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]

    def row(label: str, cells: list[str], target: str = "") -> None:
        lines.append("| " + " | ".join([label, *cells, target]) + " |")

    def s(run: dict, key: str):
        return run.get("summary", {}).get(key)

    def check(run: dict, name: str):
        return run.get("summary", {}).get("targets", {}).get(name)

    row("department rows", [number_cell(s(r, "rows")) for r in runs])
    row("synth", [seconds_cell(s(r, "synth_seconds"), s(r, "synth_cpu_seconds")) for r in runs])
    row("ingestion", [seconds_cell(s(r, "ingest_seconds"), s(r, "ingest_cpu_seconds")) for r in runs])
    row("ingestion rows/s", [number_cell(s(r, "ingest_rows_per_second")) for r in runs])
    row("ingestion ÷ plain read, whole drop", [
        marked(f"{s(r, 'ingest_vs_plain_read_ratio')}x ({s(r, 'ingest_workers')} at once)",
               check(r, "ingest_vs_plain_read_ratio")) if s(r, "ingest_vs_plain_read_ratio") is not None else "–"
        for r in runs], "≤ 3x")
    row("&nbsp;&nbsp;per file, CSV files", [
        f"{s(r, 'ingest_vs_plain_read_ratio_csv')}x (CPU {s(r, 'ingest_vs_plain_read_cpu_ratio')}x)"
        if s(r, "ingest_vs_plain_read_ratio_csv") is not None else "–" for r in runs])
    row("&nbsp;&nbsp;per file, all files", [
        f"{s(r, 'ingest_vs_plain_read_ratio_all')}x (CPU {s(r, 'ingest_vs_plain_read_cpu_ratio_all')}x)"
        if s(r, "ingest_vs_plain_read_ratio_all") is not None else "–" for r in runs])
    row("&nbsp;&nbsp;least possible: read, hash, parse, write once, no validation", [
        f"{s(r, 'ingest_floor_vs_plain_read_ratio')}x ({seconds_cell(s(r, 'ingest_floor_seconds'))})"
        if s(r, "ingest_floor_vs_plain_read_ratio") is not None else "–" for r in runs])
    row("ingestion peak memory", [memory_cell(s(r, "ingest_peak_rss_mb")) for r in runs])
    row("linkage", [marked(seconds_cell(s(r, "linkage_seconds"), s(r, "linkage_cpu_seconds")),
                           check(r, "linkage_seconds")) for r in runs], "≤ 60 s at 100k")
    for stage in LINKAGE_STAGES:
        row(f"&nbsp;&nbsp;{stage}", [
            f"{(s(r, 'linkage_stage_seconds') or {}).get(stage):.1f} s, "
            f"{memory_cell((s(r, 'linkage_stage_peak_rss_mb') or {}).get(stage))}"
            if (s(r, "linkage_stage_seconds") or {}).get(stage) is not None else "–" for r in runs])
    row("linkage peak memory", [marked(memory_cell(s(r, "linkage_peak_rss_mb")), check(r, "linkage_peak_rss_mb"))
                                for r in runs], "< 6 GB at 100k")
    if any(s(r, "counties_combined_seconds") is not None for r in runs):
        row("linkage, 4 counties in one pass", [seconds_cell(s(r, "counties_combined_seconds")) for r in runs])
        row("&nbsp;&nbsp;counties in 2 processes", [seconds_cell(s(r, "counties_pool_seconds")) for r in runs])
        row("&nbsp;&nbsp;Dagster, a step per county, 2 at once", [
            seconds_cell(s(r, "counties_dagster_seconds")) for r in runs])
        row("&nbsp;&nbsp;same `record_link` as one pass", [
            {True: "yes", False: "**no**", None: "–"}[s(r, "counties_same_record_link")] for r in runs])
    row("warehouse build + publish", [
        marked(seconds_cell(s(r, "warehouse_seconds"), s(r, "warehouse_cpu_seconds")), check(r, "warehouse_seconds"))
        for r in runs], "≤ 30 s at 100k")
    row("warehouse peak memory", [memory_cell(s(r, "warehouse_peak_rss_mb")) for r in runs])
    row("end-to-end `hearth run`", [
        marked(seconds_cell(s(r, "e2e_seconds"), s(r, "e2e_cpu_seconds")), check(r, "e2e_seconds")) for r in runs],
        "< 2 min at 100k")
    row("end-to-end peak memory", [marked(memory_cell(s(r, "e2e_peak_rss_mb")), check(r, "e2e_peak_rss_mb"))
                                   for r in runs], "< 8 GB at 100k")
    row("person F1", [number_cell(s(r, "person_f1"), 4) for r in runs], "≥ 0.995")
    row("household F1", [number_cell(s(r, "household_f1"), 4) for r in runs], "≥ 0.98")
    if any(s(r, "person_id_stability") is not None for r in runs):
        row("ID stability: person / household, per member / per household / every pair", [
            " / ".join(number_cell(s(r, name), 4) for name in (
                "person_id_stability", "household_id_stability", "household_entity_id_stability",
                "household_every_pair_id_stability"))
            for r in runs], "≥ 0.999")
    failures = [(r["households"], name, phase.get("error") or phase.get("skipped") or "failed")
                for r in runs for name, phase in r.get("phases", {}).items() if not phase.get("ok")]
    if failures:
        lines += ["", "Phases that did not succeed (figures above, where shown, are up to the failure):", ""]
        lines += [f"- {n:,} households, {name}: {' / '.join(why.strip().splitlines()[:3])[:300]}"
                  for n, name, why in failures]
    if any((r.get("phases", {}).get("linkage") or {}).get("calls", 0) > 1 for r in runs):
        lines += ["", "Linkage: the second of two runs (all snapshots, with the earlier snapshots' IDs as "
                      "baseline, as next month's run); stage memory is sampled every 50 ms."]
    return "\n".join(lines) + "\n"
