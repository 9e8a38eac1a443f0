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
                  warnings=outcome.warnings)
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


def main() -> None:
    app()


if __name__ == "__main__":
    main()
