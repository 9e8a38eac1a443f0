"""Find the header row among the first rows of a sheet or CSV.

Departments put one or two title rows (``青石县2026年低保对象花名册``) above the
header. The header row is the first of the top rows where most non-empty
cells are known headers of *any* department (so a file sent to the wrong
folder still gets its header found, and ingest can say which department it
looks like). Deliberately independent of ``schemas.headers``: a set of
normalised header strings from the Column metadata is enough here.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache

from schemas.departments import DEPARTMENTS, columns

#: how many top rows may hold titles before the header.
SEARCH_ROWS = 10
_BRACKETED = re.compile(r"\([^)]*\)|\[[^\]]*\]|【[^】]*】")
_SPACES = re.compile(r"[\s\u3000*＊:：]+")


def normalise_header(text: str | None) -> str:
    """NFKC, drop bracketed suffixes such as ``（元）``, spaces and ``*``, lower-case."""
    if text is None:
        return ""
    text = unicodedata.normalize("NFKC", str(text))
    text = _BRACKETED.sub("", text)
    return _SPACES.sub("", text).lower()


@lru_cache(maxsize=1)
def known_headers() -> frozenset[str]:
    """Every header (canonical, Chinese, aliases) of every department, normalised."""
    found = set()
    for department in DEPARTMENTS:
        for spec in columns(department):
            found.update(normalise_header(h) for h in spec.headers)
    found.discard("")
    return frozenset(found)


def header_score(cells: Sequence[str | None]) -> tuple[int, int]:
    """(non-empty cells, cells that are known headers)."""
    known = known_headers()
    texts = [normalise_header(c) for c in cells]
    non_empty = [t for t in texts if t]
    return len(non_empty), sum(t in known for t in non_empty)


def is_header_row(cells: Sequence[str | None]) -> bool:
    non_empty, matched = header_score(cells)
    return matched >= 2 and matched * 2 >= non_empty


def find_header_row(rows: Sequence[Sequence[str | None]]) -> int | None:
    """0-based index of the header among ``rows[:SEARCH_ROWS]``, else None."""
    for index, cells in enumerate(rows[:SEARCH_ROWS]):
        if is_header_row(cells):
            return index
    return None


def column_names(cells: Sequence[str | None]) -> list[str]:
    """Header cells as found (trimmed), unique, with names for blank headers."""
    names: list[str] = []
    seen: dict[str, int] = {}
    for position, cell in enumerate(cells, start=1):
        name = (cell or "").strip() or f"column_{position}"
        if name in seen:
            seen[name] += 1
            name = f"{name}_{seen[name]}"
        seen.setdefault(name, 1)
        names.append(name)
    return names
