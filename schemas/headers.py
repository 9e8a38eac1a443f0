"""Header text -> canonical column, derived only from the Column metadata.

Departments type their headers by hand: stray spaces, full-width brackets,
unit suffixes (``年度医疗总费用（元）``), a ``*`` marking required columns,
or the canonical English names in any case. Both sides are reduced to the
same key by :func:`header_key` and matched exactly; no header is spelled here.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import cache

from schemas.departments import DEPARTMENTS, columns

# After NFKC full-width brackets are ASCII; 【】 and 〔〕 have no compatibility form.
_BRACKETS = str.maketrans({"【": "[", "】": "]", "〔": "[", "〕": "]", "〈": "<", "〉": ">"})
_UNIT_SUFFIX = re.compile(r"[(\[<][^()\[\]<>]{1,8}[)\]>]$")
_NOISE = re.compile(r"[\s_\-*:：\ufeff\u200b]+")


def header_key(header: str) -> str:
    """The comparison key of a header: NFKC, no whitespace/underscores/marks, no unit suffix, case-folded."""
    text = unicodedata.normalize("NFKC", str(header)).translate(_BRACKETS)
    text = _NOISE.sub("", text)
    while (stripped := _UNIT_SUFFIX.sub("", text)) != text and stripped:
        text = stripped
    return text.casefold()


@dataclass(frozen=True)
class HeaderMatch:
    """How a file's headers map onto one department's canonical columns."""

    department: str
    mapping: dict[str, str] = field(default_factory=dict)  # found header -> canonical name
    missing_required: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    score: float = 0.0  # share of the department's canonical columns found


@cache
def _lookup(department: str) -> dict[str, tuple[int, str]]:
    """header key -> (priority, canonical); canonical and zh (0) beat aliases (1)."""
    table: dict[str, tuple[int, str]] = {}
    for spec in columns(department):
        for priority, header in ((0, spec.name), (0, spec.column.zh), *((1, a) for a in spec.column.aliases)):
            key = header_key(header)
            if key not in table or priority < table[key][0]:
                table[key] = (priority, spec.name)
    return table


def match_headers(headers: list[str], department: str) -> HeaderMatch:
    """Map found headers to canonical columns of ``department``.

    When two headers name the same column, the one matching the canonical or
    Chinese header wins over an alias, then the leftmost; the loser is unknown.
    """
    table = _lookup(department)
    best: dict[str, tuple[int, int, str]] = {}  # canonical -> (priority, position, found header)
    for position, header in enumerate(headers):
        hit = table.get(header_key(header)) if header is not None else None
        if hit is None:
            continue
        priority, canonical = hit
        if canonical not in best or (priority, position) < best[canonical][:2]:
            best[canonical] = (priority, position, header)
    chosen = {found: canonical for canonical, (_, _, found) in best.items()}
    mapping = {h: chosen[h] for h in headers if h in chosen}
    specs = columns(department)
    return HeaderMatch(
        department=department,
        mapping=mapping,
        missing_required=[s.name for s in specs if s.required and s.name not in best],
        unknown=[h for h in headers if h not in chosen],
        score=len(best) / len(specs),
    )


def guess_department(headers: list[str]) -> str | None:
    """The department whose columns these headers fit best, or None when no fit is clear.

    Used to tell a department it dropped a file into the wrong folder: needs
    every required column present, at least half the columns, and a strict
    winner (water and housing share most person columns).
    """
    matches = [match_headers(headers, d) for d in DEPARTMENTS]
    fitting = sorted(
        (m for m in matches if not m.missing_required and m.score >= 0.5),
        key=lambda m: (m.score, len(m.mapping)),
        reverse=True,
    )
    if not fitting:
        return None
    if len(fitting) > 1 and (fitting[0].score, len(fitting[0].mapping)) == (fitting[1].score, len(fitting[1].mapping)):
        return None
    return fitting[0].department
