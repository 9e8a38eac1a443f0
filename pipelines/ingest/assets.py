"""One ingest asset per department, stamped out by a factory, and the
accounting check that proves nothing was lost."""


import errno
from collections import Counter

import dagster as dg
import polars as pl

from pipelines.failures import TRANSIENT_IO, fail_fast_on_data_errors
from pipelines.ingest.sweep import sweep_department
from pipelines.resources import HearthResource
from pipelines.settings import DEPARTMENTS
from schemas.departments import DEPARTMENT_ZH
from sources import reports
from sources.accounting import account_department
from sources.registry import StateDir

#: a folder Hearth may not read stays that way until a person changes it: retrying only delays the message.
NOT_PERMITTED = (errno.EACCES, errno.EPERM)



def ingest_asset_key(department: str) -> dg.AssetKey:
    return dg.AssetKey(["ingest", department])


def build_ingest_asset(department: str) -> dg.AssetsDefinition:
    @dg.asset(
        key=ingest_asset_key(department),
        group_name="ingest",
        kinds={"polars", "parquet"},
        owners=["team:data-engineering"],
        description=(
            f"{DEPARTMENT_ZH[department]} extracts from landing/{department}/: every ready file read, "
            "validated against schemas.departments and split into accepted rows and quarantine "
            "(keyed by content hash: a re-dropped file changes nothing)."
        ),
        retry_policy=TRANSIENT_IO,
        pool="hearth_state",
    )
    def _ingest(context: dg.AssetExecutionContext, hearth: HearthResource) -> dg.MaterializeResult:
        settings = hearth.settings()
        state = StateDir(settings.state)
        with fail_fast_on_data_errors(f"ingesting landing/{department}"):
            try:
                sweep = sweep_department(settings.landing, department, state, quiet_seconds=settings.quiet_seconds,
                                         workers=settings.ingest_workers or None)
            except OSError as error:
                if error.errno not in NOT_PERMITTED:
                    raise  # perhaps a network share that comes back: retried
                raise dg.Failure(description=landing_unreadable(department, settings.landing, error),
                                 allow_retries=False) from error
        for waiting in sweep.waiting:
            context.log.info(f"{waiting.file_name}: still being written, left for the next run")
        for refused in sweep.refused:
            context.log.warning(f"{refused.path.name}: refused ({refused.reason})")
        new = sweep.new_files
        reasons: Counter[str] = Counter()
        for result in new:
            reasons.update(result.reject_reasons)
            if result.status == "unreadable":
                context.log.warning(f"{result.file_name}: unreadable: {result.reason}")
        if sweep.reports_pending:
            context.log.warning(reports.pending_problem(sweep.reports_pending, state.root))
        table = pl.DataFrame(
            [{"file": r.file_name, "status": r.status, "read": r.rows_read, "accepted": r.rows_accepted,
              "quarantined": r.rows_quarantined, "blank": r.blank_rows, "reason": r.reason or ""}
             for r in sweep.results],
            schema={"file": pl.String, "status": pl.String, "read": pl.Int64, "accepted": pl.Int64,
                    "quarantined": pl.Int64, "blank": pl.Int64, "reason": pl.String},
        )
        accepted = sum(r.rows_accepted for r in new)
        quarantined = sum(r.rows_quarantined for r in new)
        return dg.MaterializeResult(metadata={
            "dagster/row_count": accepted,
            "files_seen": len(sweep.results),
            "files_new": len(new),
            "files_unreadable": sum(r.status == "unreadable" for r in new),
            "files_waiting": len(sweep.waiting),
            "rows_read": sum(r.rows_read for r in new),
            "rows_accepted": accepted,
            "rows_quarantined": quarantined,
            "reject_rate": round(quarantined / max(1, accepted + quarantined), 4),
            "reject_reasons": dg.MetadataValue.json(dict(reasons.most_common(20))),
            "files": dg.MetadataValue.md(_markdown(table)),
            "reports_pending": len(sweep.reports_pending),
            "reports_pending_files": dg.MetadataValue.json(
                [{"file": p.file_name, "folder": str(p.folder), "error": p.error} for p in sweep.reports_pending]),
        })

    return _ingest


def build_accounting_check(department: str) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=ingest_asset_key(department),
        name="every_row_accounted_for",
        blocking=True,
        description="For every file: rows read = accepted + quarantined + blank, counted again from the "
                    "Parquet on disk; every unreadable file has a report for its department; no report is "
                    "still waiting to be written into the landing folder.",
    )
    def _check(hearth: HearthResource) -> dg.AssetCheckResult:
        settings = hearth.settings()
        accounting = account_department(StateDir(settings.state), settings.landing, department)
        broken = accounting.filter(~pl.col("balanced"))
        pending = reports.pending_reports(settings.state, settings.landing, department)
        if pending:
            description = reports.pending_problem(pending, settings.state)
        elif broken.height:
            description = f"{broken.height} file(s) do not balance (see 'unbalanced')."
        else:
            description = None
        return dg.AssetCheckResult(
            passed=broken.height == 0 and not pending,
            description=description,
            metadata={"files_checked": accounting.height, "files_unbalanced": broken.height,
                      "unbalanced": dg.MetadataValue.md(_markdown(broken.head(20))),
                      "reports_pending": len(pending)},
        )

    return _check


def landing_unreadable(department: str, landing, error: OSError) -> str:
    where = error.filename or f"{landing}/{department}"
    return (f"Cannot read the landing folder {where} ({reports.os_error_text(error)}). Give the account that runs "
            f"Hearth read and write access to it and run again. Nothing new from {department} was ingested; the "
            "published warehouse is unchanged.")


def _markdown(frame: pl.DataFrame) -> str:
    if frame.height == 0:
        return "_none_"
    header = "| " + " | ".join(frame.columns) + " |"
    rule = "|" + "---|" * frame.width
    rows = ["| " + " | ".join("" if v is None else str(v) for v in row) + " |" for row in frame.iter_rows()]
    return "\n".join([header, rule, *rows])


INGEST_ASSETS = [build_ingest_asset(d) for d in DEPARTMENTS]
INGEST_CHECKS = [build_accounting_check(d) for d in DEPARTMENTS]
