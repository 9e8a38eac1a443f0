"""One target under atheris: ``python -m fuzz.run_target NAME [libFuzzer flags] [corpus folders]``.

NAME is a key of ``fuzz.targets.TARGETS`` or ``any`` (every target in one
process, for the smoke run). The seeds and the kept regression inputs of
the target are written into the first corpus folder before fuzzing starts,
so a regression that comes back is the first thing found.
"""

import sys
from pathlib import Path

import atheris

# The libraries are imported before instrumenting: coverage is only gathered in Hearth's own code.
import charset_normalizer  # noqa: F401
import fastexcel  # noqa: F401
import numpy  # noqa: F401
import opencc  # noqa: F401
import polars  # noqa: F401
import pyarrow  # noqa: F401
import pypinyin  # noqa: F401
import xlsxwriter  # noqa: F401

with atheris.instrument_imports(include=["sources", "schemas"]):
    from fuzz import targets

REGRESSIONS = Path(__file__).parent / "regressions"


def prepare_corpus(name: str, corpus: Path) -> None:
    corpus.mkdir(parents=True, exist_ok=True)
    names = list(targets.TARGETS) if name == "any" else [name]
    for index, target in enumerate(names):
        prefix = bytes([index]) if name == "any" else b""
        for number, seed in enumerate(targets.seeds()[target]):
            (corpus / f"seed-{target}-{number}").write_bytes(prefix + seed)
        for kept in sorted((REGRESSIONS / target).glob("*")):
            (corpus / f"regression-{target}-{kept.name}").write_bytes(prefix + kept.read_bytes())


def main() -> None:
    name, *flags = sys.argv[1:]
    target = targets.any_target if name == "any" else targets.TARGETS[name]
    folders = [f for f in flags if not f.startswith("-")]
    if folders:
        prepare_corpus(name, Path(folders[0]))
    atheris.Setup([sys.argv[0], *flags], target)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
