"""The ``hearth`` command line."""

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from pipelines.settings import HearthSettings

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Hearth: county department extracts in, one household view out.")
console = Console(stderr=True)


def _settings(landing: Optional[Path], warehouse: Optional[Path], state: Optional[Path],
              quiet_seconds: Optional[float] = None) -> HearthSettings:
    settings = HearthSettings.from_env(landing_dir=landing, warehouse_path=warehouse, state_dir=state,
                                       quiet_seconds=quiet_seconds)
    if warehouse is not None and state is None and settings.state_dir is None:
        # Keep a run's state beside the warehouse it builds, not in ./data.
        settings = settings.model_copy(update={"state_dir": warehouse.parent / "state",
                                               "reports_dir": settings.reports_dir or warehouse.parent / "reports"})
    return settings


@app.command()
def run(
    landing: Annotated[Optional[Path], typer.Option(help="Landing folder (one sub-folder per department).")] = None,
    warehouse: Annotated[Optional[Path], typer.Option(help="Published warehouse file.")] = None,
    state: Annotated[Optional[Path], typer.Option(help="State folder (default: beside the warehouse).")] = None,
    quiet_seconds: Annotated[Optional[float], typer.Option(help="Seconds a file must be unchanged.")] = None,
) -> None:
    """Run the whole pipeline once over a landing folder."""
    from pipelines.run import run_pipeline, wait_for_quiet_files
    from pipelines.summary import print_summary

    settings = _settings(landing, warehouse, state, quiet_seconds)
    if not settings.landing.is_dir():
        console.print(f"[red]Landing folder not found:[/red] {settings.landing}")
        raise typer.Exit(2)
    wait_for_quiet_files(settings, console)
    outcome = run_pipeline(settings, console=console)
    print_summary(settings, console, seconds=outcome.seconds, success=outcome.success,
                  failed_checks=outcome.failed_checks, failed_steps=outcome.failed_steps,
                  warnings=outcome.warnings, report=outcome.report)
    raise typer.Exit(0 if outcome.success else 1)


@app.command()
def synth(
    out: Annotated[Path, typer.Option(help="Landing folder to write extracts (and _truth/) into.")] = Path("data/landing"),
    households: Annotated[int, typer.Option(help="Number of households.")] = 2000,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same files).")] = 7,
) -> None:
    """Generate a realistic synthetic county drop with ground truth."""
    import synth as synth_package

    summary = synth_package.generate(out, households=households, seed=seed)
    console.print(summary if isinstance(summary, str) else getattr(summary, "describe", lambda: summary)())


def _open_warehouse(warehouse: Optional[Path]):
    import duckdb

    path = warehouse or HearthSettings.from_env().warehouse
    if not path.exists():
        console.print(f"[red]No warehouse at {path}[/red]: run `hearth run` (or `make demo`) first.")
        raise typer.Exit(2)
    return duckdb.connect(str(path), read_only=True)


@app.command()
def household(
    household_id: Annotated[str, typer.Argument(help="A household_id (H…) or an analyst household_key.")],
    warehouse: Annotated[Optional[Path], typer.Option(help="Published warehouse file.")] = None,
) -> None:
    """Print one household whole: members, facts from every department, rule hits, history."""
    from warehouse.household import describe_household

    with _open_warehouse(warehouse) as conn:
        typer.echo(describe_household(conn, household_id))


@app.command()
def export(
    out: Annotated[Path, typer.Option(help="Folder for one Parquet file per analyst view.")] = Path("data/export"),
    warehouse: Annotated[Optional[Path], typer.Option(help="Published warehouse file.")] = None,
) -> None:
    """Write the analyst views (pseudonymised, masked) to Parquet."""
    from warehouse.export import export_analyst_views

    path = warehouse or HearthSettings.from_env().warehouse
    _open_warehouse(path).close()
    for written in export_analyst_views(path, out):
        console.print(f"wrote {written}")


@app.command()
def dictionary(
    out: Annotated[Path, typer.Option(help="Markdown file to write.")] = Path("docs/warehouse.md"),
    warehouse: Annotated[Optional[Path], typer.Option(help="Published warehouse file.")] = None,
) -> None:
    """Regenerate the data dictionary from the table and column comments."""
    from warehouse.dictionary import write_dictionary

    path = warehouse or HearthSettings.from_env().warehouse
    _open_warehouse(path).close()
    console.print(f"wrote {write_dictionary(path, out)}")


@app.command("readme-examples")
def readme_examples(
    readme: Annotated[Path, typer.Option(help="README whose example outputs to rewrite.")] = Path("README.md"),
    warehouse: Annotated[Optional[Path], typer.Option(help="Published warehouse file (the demo's).")] = None,
) -> None:
    """Rerun the README's example queries and write their outputs under them."""
    from warehouse.readme_examples import refresh_readme

    path = warehouse or HearthSettings.from_env().warehouse
    _open_warehouse(path).close()
    for name in refresh_readme(readme, path):
        console.print(f"refreshed {name}")


def main() -> None:
    from pipelines.privacy import restrict_new_files

    restrict_new_files()
    app()


if __name__ == "__main__":
    main()
