"""``hearth export``: the analyst views written as Parquet files (one per view)."""

from __future__ import annotations

from pathlib import Path

import duckdb


def export_analyst_views(warehouse: Path | str, out_dir: Path | str) -> list[Path]:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    conn = duckdb.connect(str(warehouse), read_only=True)
    try:
        views = [v for (v,) in conn.sql("SELECT view_name FROM duckdb_views() WHERE schema_name = 'analyst' "
                                        "AND NOT internal ORDER BY 1").fetchall()]
        written = []
        for view in views:
            path = out / f"{view}.parquet"
            tmp = path.with_suffix(".parquet.part")
            # relation API: the path never becomes SQL text
            conn.table(f'analyst."{view}"').write_parquet(str(tmp))
            tmp.replace(path)
            written.append(path)
        return written
    finally:
        conn.close()
