"""Every run gets its HTML report: a published run from the published warehouse
(``warehouse_published``), a run that a blocking check refused from its own
staging warehouse, saying which checks refused it and that the previous
warehouse stays in place."""

from pathlib import Path

from pipelines.settings import HearthSettings
from warehouse.publish import staging_path

REFUSED = ("Not published: a blocking check failed (listed below). The previous warehouse, if any, stays in "
           "place; the figures in this report are this run's, from its staging build.")


def write_refused_run_report(settings: HearthSettings, run_id: str, failed_checks: list[str]) -> Path | None:
    """The report of a run whose staging warehouse was built but not published (None if it was not built).

    ``failed_checks``: lines ``"<asset>:<check>: <why>"``.
    """
    staged = staging_path(settings.warehouse, run_id)
    if not staged.exists():
        return None
    from warehouse.run_report import write_run_report

    checks = []
    for line in failed_checks:
        name, _, detail = line.partition(": ")
        checks.append({"name": name.rsplit(":", 1)[-1], "passed": False, "detail": detail})
    return write_run_report(staged, settings.state, settings.reports / f"{run_id}.html", run_id=run_id,
                            previous_warehouse=settings.warehouse if settings.warehouse.exists() else None,
                            run_info={"success": False, "published": False, "message": REFUSED, "checks": checks})
