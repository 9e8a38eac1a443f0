"""Hand-made normalised department frames shaped like the contract (schemas.validate "accepted")."""

from __future__ import annotations

import datetime as dt

import polars as pl
from pypinyin import Style, lazy_pinyin

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK = "10X98765432"


def make_id(county: str, birth: dt.date, seq: int) -> str:
    body = f"{county}{birth:%Y%m%d}{seq:03d}"
    return body + CHECK[sum(int(c) * w for c, w in zip(body, WEIGHTS)) % 11]


def pinyin(name: str | None) -> str | None:
    return None if name is None else " ".join(lazy_pinyin(name, style=Style.NORMAL))


def _id_fields(prefix: str, value: str | None, status: str | None = None) -> dict:
    if value is None:
        return {prefix: None, f"{prefix}_status": "blank", f"{prefix}_birth_date": None,
                f"{prefix}_gender": None, f"{prefix}_county": None}
    status = status or "valid"
    birth = dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    return {prefix: value, f"{prefix}_status": status, f"{prefix}_birth_date": birth,
            f"{prefix}_gender": "男" if int(value[16]) % 2 else "女", f"{prefix}_county": value[:6]}


def frame(department: str, snapshot: dt.date, rows: list[dict], county: str = "529901") -> pl.DataFrame:
    """Rows of plain fields -> a normalised frame (NAME fields get ``_pinyin``, ID fields their derived columns)."""
    out = []
    for i, row in enumerate(rows):
        r = {"department": department, "file_id": f"{department[:4]}{snapshot:%Y%m%d}", "file_name": f"{county}_{snapshot:%Y%m%d}.csv",
             "row_number": i + 2, "snapshot_date": snapshot, "county": county, "flags": []}
        for key, value in row.items():
            if key.endswith("id_number"):
                r.update(_id_fields(key, value, row.get(f"{key}_status")))
            elif key.endswith("_status") and key[: -len("_status")] in row:
                continue
            else:
                r[key] = value
            if key.endswith("name") and key != "file_name":
                r[f"{key}_pinyin"] = pinyin(value)
        out.append(r)
    return pl.DataFrame(out, infer_schema_length=None)
