"""TEXT and ADDRESS columns: NFKC, trimmed, empty -> null."""

from __future__ import annotations

from schemas.normalise import Stages, clean


def normalise(col: str, out: str | None = None) -> Stages:
    return [{out or col: clean(col)}]
