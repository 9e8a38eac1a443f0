"""The README's example queries, and their outputs refreshed from a built warehouse.

Each example in the README is a ``<!-- query:NAME -->`` SQL block followed by a
``text`` block with what it printed on the demo warehouse. The tests run every
query on a freshly built warehouse; ``hearth readme-examples`` rewrites every
output from the warehouse at hand, so the README shows what the model returns
today rather than what it returned when the example was written.
"""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import duckdb

QUERY = re.compile(r"<!-- query:(?P<name>[a-z_]+) -->\s*```sql\n(?P<sql>.*?)```\s*<!-- /query -->", re.S)
#: A query and the output block right after it.
EXAMPLE = re.compile(QUERY.pattern + r"(?P<between>\s*```text\n)(?P<output>.*?)```", re.S)


def queries(readme: str) -> dict[str, str]:
    return {match["name"]: match["sql"] for match in QUERY.finditer(readme)}


#: Characters per output line: what a README page shows without scrolling far.
WIDTH = 140


def render(conn: duckdb.DuckDBPyConnection, sql: str, width: int = WIDTH) -> str:
    """What ``.show()`` prints for the query (DuckDB's box layout, long values cut), whatever the terminal."""
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        conn.sql(sql).show(max_width=width)
    return printed.getvalue().rstrip("\n") + "\n"


def refresh(readme: str, conn: duckdb.DuckDBPyConnection) -> tuple[str, list[str]]:
    """``readme`` with every example's output replaced by the query's output on ``conn``."""
    refreshed: list[str] = []

    def replace(match: re.Match) -> str:
        refreshed.append(match["name"])
        start, end = match.span("output")
        whole = match.group(0)
        offset = match.start()
        return whole[: start - offset] + render(conn, match["sql"]) + whole[end - offset:]

    return EXAMPLE.sub(replace, readme), refreshed


def refresh_readme(readme: Path, warehouse: Path) -> list[str]:
    """Rewrite ``readme`` in place from ``warehouse`` (opened read-only); the examples refreshed."""
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        text, refreshed = refresh(readme.read_text(encoding="utf-8"), conn)
    readme.write_text(text, encoding="utf-8")
    return refreshed
