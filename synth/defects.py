"""Damage a clean department frame the way real extracts are damaged, and log every defect.

Per field, one uniform draw per row decides which (if any) defect the cell gets:
the kinds competing for a field occupy disjoint intervals of [0, 1), so a cell
receives at most one defect and the log names it exactly. Only the selected
cells are transformed in Python (a few per cent of the rows); everything else
stays in polars.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import polars as pl

from schemas.columns import Kind
from schemas.departments import columns as department_columns
from synth import vocab
from synth.config import DefectRates

DATE_FORMATS = ("iso", "slash", "compact", "chinese")
EXCEL_EPOCH = date(1899, 12, 30)


@dataclass
class FilePlan:
    """Choices made once per file."""

    english_headers: bool
    date_format: str  # base format of every date cell
    grade_style: str  # "zh" | "number"
    title_rows: list[str] = field(default_factory=list)
    excel_dates: bool = False  # XLSX only: clean ISO dates written as real Excel dates


@dataclass
class Damaged:
    frame: pl.DataFrame  # columns = headers as written, all String
    truth_rows: pl.DataFrame  # _row (0-based data row), record_id (true), for each written row that is a record
    log: pl.DataFrame  # _row, field, defect (record_id filled by the caller)


def _fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def _space_name(name: str) -> str:
    if "·" in name or len(name) < 2:
        return name
    return " ".join(name) if len(name) == 2 else name[0] + " " + name[1:]


def _homophone(name: str, rng: np.random.Generator) -> str:
    table = vocab.homophones()
    for pos in range(len(name) - 1, 0, -1):  # never the surname
        options = table.get(name[pos])
        if options:
            return name[:pos] + options[int(rng.integers(len(options)))] + name[pos + 1:]
    return name


def _excel_number(id_number: str, rng: np.random.Generator) -> str:
    """What Excel shows (and saves to CSV) for an ID typed as a number."""
    if rng.random() < 0.6:
        mantissa, exponent = f"{int(id_number[:17]) * 10:.5E}".split("E")
        return mantissa.rstrip("0").rstrip(".") + "E" + exponent
    return id_number[:15] + "000"  # 15 significant digits kept, the rest zeroed


def _legacy(id_number: str) -> str:
    return id_number[:6] + id_number[8:17]


def _digit_wrong(id_number: str, rng: np.random.Generator) -> str:
    pos = int(rng.integers(6, 17))
    new = str((int(id_number[pos]) + int(rng.integers(1, 10))) % 10)
    return id_number[:pos] + new + id_number[pos + 1:]


def _transpose(id_number: str, rng: np.random.Generator) -> str:
    for _ in range(10):
        pos = int(rng.integers(6, 16))
        if id_number[pos] != id_number[pos + 1]:
            return id_number[:pos] + id_number[pos + 1] + id_number[pos] + id_number[pos + 2:]
    return _digit_wrong(id_number, rng)


def format_date(iso: str, fmt: str) -> str:
    y, m, d = iso.split("-")
    if fmt == "slash":
        return f"{y}/{int(m)}/{int(d)}"
    if fmt == "compact":
        return f"{y}{m}{d}"
    if fmt == "chinese":
        return f"{y}年{int(m)}月{int(d)}日"
    if fmt == "excel_serial":
        return str((date(int(y), int(m), int(d)) - EXCEL_EPOCH).days)
    return iso


def _date_expr(col: str, fmt: str) -> pl.Expr:
    d = pl.col(col).str.to_date("%Y-%m-%d", strict=False)
    if fmt == "slash":
        return pl.concat_str(d.dt.year().cast(pl.String), pl.lit("/"), d.dt.month().cast(pl.String), pl.lit("/"),
                             d.dt.day().cast(pl.String))
    if fmt == "compact":
        return d.dt.strftime("%Y%m%d")
    if fmt == "chinese":
        return pl.concat_str(d.dt.year().cast(pl.String), pl.lit("年"), d.dt.month().cast(pl.String), pl.lit("月"),
                             d.dt.day().cast(pl.String), pl.lit("日"))
    return pl.col(col)


def _impossible(iso: str, rng: np.random.Generator) -> str:
    y = iso[:4]
    return rng.choice([f"{y}-02-30", f"{y}-13-01", f"{y}-04-31", f"{y}-00-12", "1900-01-00"])


def _phone_variant(phone: str, kind: str, rng: np.random.Generator) -> str:
    if kind == "phone_plus86":
        return ("+86 " if rng.random() < 0.5 else "+86") + phone
    if kind == "phone_spaces":
        return f"{phone[:3]} {phone[3:7]} {phone[7:]}"
    if kind == "phone_dashes":
        return f"{phone[:3]}-{phone[3:7]}-{phone[7:]}"
    return vocab.PHONE_PLACEHOLDERS[int(rng.integers(len(vocab.PHONE_PLACEHOLDERS)))]


def _enum_variants(values: dict[str, tuple[str, ...]], kind: Kind) -> dict[str, list[str]]:
    out = {}
    for canonical, spellings in values.items():
        alts = [s for s in spellings if s != canonical and (kind == Kind.BOOL or not s.isascii())]
        if kind == Kind.HOUSE_GRADE:
            alts = [canonical + "级", _fullwidth(canonical)]  # C级, Ｃ
        if alts:
            out[canonical] = alts
    return out


class Damager:
    """Applies the configured defects to one department file."""

    def __init__(self, department: str, rates: DefectRates, rng: np.random.Generator):
        self.department = department
        self.rates = rates
        self.rng = rng
        self.specs = {s.name: s for s in department_columns(department)}
        self.log: list[tuple[np.ndarray, str, str]] = []

    # -- helpers
    def _pick(self, n: int, kinds: list[str], eligible: np.ndarray | None = None) -> dict[str, np.ndarray]:
        u = self.rng.random(n)
        lo, out = 0.0, {}
        for k in kinds:
            r = getattr(self.rates, k)
            idx = np.flatnonzero((u >= lo) & (u < lo + r) & (True if eligible is None else eligible))
            lo += r
            out[k] = idx
        return out

    def _apply(self, df: pl.DataFrame, col: str, idx: np.ndarray, fn, kind: str) -> pl.DataFrame:
        if not len(idx):
            return df
        old = df[col].gather(idx).to_list()
        new = [fn(v) for v in old]
        changed = np.array([a != b for a, b in zip(old, new, strict=True)])
        if not changed.any():
            return df
        idx, new = idx[changed], [v for v, c in zip(new, changed, strict=True) if c]
        self.log.append((idx, col, kind))
        return df.with_columns(df[col].scatter(idx, pl.Series(new, dtype=pl.String)))

    # -- main
    def damage(self, df: pl.DataFrame, plan: FilePlan) -> Damaged:
        rng = self.rng
        n = df.height
        public = [c for c in df.columns if not c.startswith("_")]
        for col in public:
            spec = self.specs.get(col)
            if spec is None:
                continue
            kind = spec.kind
            present = df[col].is_not_null().to_numpy()
            if kind == Kind.NAME:
                minority = df[col].str.contains("·", literal=True).fill_null(False).to_numpy()
                sep = np.flatnonzero(minority & (rng.random(n) < self.rates.name_separator))
                df = self._apply(df, col, sep, lambda v: v.replace("·", "." if rng.random() < 0.6 else "•"), "name_separator")
                picks = self._pick(n, ["name_space", "name_traditional", "name_homophone"], present & ~minority)
                df = self._apply(df, col, picks["name_space"], _space_name, "name_space")
                df = self._apply(df, col, picks["name_traditional"], vocab.to_traditional, "name_traditional")
                df = self._apply(df, col, picks["name_homophone"], lambda v: _homophone(v, rng), "name_homophone")
            elif kind == Kind.ID_NUMBER:
                df = self._ids(df, col, present)
            elif kind == Kind.GENDER:
                with_id = df["id_number"].is_not_null().to_numpy() if "id_number" in df.columns else present
                picks = self._pick(n, ["gender_numeric", "gender_disagrees_with_id"], present)
                df = self._apply(df, col, picks["gender_numeric"], lambda v: {"男": "1", "女": "2"}[v], "gender_numeric")
                flip = picks["gender_disagrees_with_id"]
                flip = flip[with_id[flip]]
                df = self._apply(df, col, flip, lambda v: {"男": "女", "女": "男"}[v], "gender_disagrees_with_id")
            elif kind == Kind.PHONE:
                kinds = ["phone_plus86", "phone_spaces", "phone_dashes", "phone_placeholder"]
                picks = self._pick(n, kinds, present)
                for k in kinds:
                    df = self._apply(df, col, picks[k], lambda v, k=k: _phone_variant(v, k, rng), k)
            elif kind == Kind.VILLAGE_CODE:
                picks = self._pick(n, ["village_code_blank"], present)
                df = self._apply(df, col, picks["village_code_blank"], lambda v: None, "village_code_blank")
            elif kind in (Kind.ENUM, Kind.BOOL, Kind.HOUSE_GRADE):
                variants = _enum_variants(spec.column.values, kind)
                ok = df[col].is_in(list(variants)).to_numpy() if variants else np.zeros(n, bool)
                picks = self._pick(n, ["enum_variant"], ok)
                df = self._apply(df, col, picks["enum_variant"],
                                 lambda v: variants[v][int(rng.integers(len(variants[v])))], "enum_variant")
            elif kind == Kind.SCHOOL_GRADE and plan.grade_style == "zh":
                df = df.with_columns(pl.col(col).cast(pl.Int32).replace_strict(
                    list(range(len(vocab.GRADE_ZH))), vocab.GRADE_ZH, return_dtype=pl.String, default=None))
        df = self._dates(df, plan)
        return self._rows_and_headers(df, plan)

    def _ids(self, df: pl.DataFrame, col: str, present: np.ndarray) -> pl.DataFrame:
        rng, n = self.rng, df.height
        ends_x = df[col].str.ends_with("X").fill_null(False).to_numpy()
        kinds = ["id_blank", "id_fullwidth", "id_excel", "id_legacy15", "id_digit_wrong", "id_transposed"]
        picks = self._pick(n, kinds, present)
        old = df[col].str.slice(6, 2).is_in(["19"]).fill_null(False).to_numpy()  # legacy IDs: born 19xx
        lower = np.flatnonzero(ends_x & (rng.random(n) < self.rates.id_lower_x))
        lower = np.setdiff1d(lower, np.concatenate([picks[k] for k in kinds]))
        df = self._apply(df, col, lower, str.lower, "id_lower_x")
        df = self._apply(df, col, picks["id_blank"], lambda v: None, "id_blank")
        df = self._apply(df, col, picks["id_fullwidth"], _fullwidth, "id_fullwidth")
        df = self._apply(df, col, picks["id_excel"], lambda v: _excel_number(v, rng), "id_excel")
        df = self._apply(df, col, picks["id_legacy15"][old[picks["id_legacy15"]]], _legacy, "id_legacy15")
        df = self._apply(df, col, picks["id_digit_wrong"], lambda v: _digit_wrong(v, rng), "id_digit_wrong")
        df = self._apply(df, col, picks["id_transposed"], lambda v: _transpose(v, rng), "id_transposed")
        if self.department == "civil_affairs" and col == "id_number" and "birth_date" in df.columns:
            # children are often listed without an ID number
            child = (df["birth_date"].str.slice(0, 4).cast(pl.Int32, strict=False) >= 2011).fill_null(False).to_numpy()
            idx = np.flatnonzero(child & df[col].is_not_null().to_numpy() & (rng.random(n) < 0.35))
            df = self._apply(df, col, idx, lambda v: None, "id_blank")
        return df

    def _dates(self, df: pl.DataFrame, plan: FilePlan) -> pl.DataFrame:
        rng, n = self.rng, df.height
        date_cols = [c for c in df.columns if c in self.specs and self.specs[c].kind == Kind.DATE]
        if "birth_date" in date_cols and "id_number" in df.columns:
            with_id = df["id_number"].is_not_null().to_numpy()
            picks = self._pick(n, ["birth_date_disagrees_with_id"], with_id & df["birth_date"].is_not_null().to_numpy())

            def shift(v: str) -> str:
                d = date.fromisoformat(v) + timedelta(days=int(rng.choice([-1, 1]) * rng.integers(1, 400)))
                return min(d, date(2026, 1, 1)).isoformat() if d.isoformat() != v else (d + timedelta(days=3)).isoformat()

            df = self._apply(df, "birth_date", picks["birth_date_disagrees_with_id"], shift, "birth_date_disagrees_with_id")
        for col in date_cols:
            present = df[col].is_not_null().to_numpy()
            kinds = ["date_slash", "date_compact", "date_chinese", "date_excel_serial", "date_impossible"]
            kinds = [k for k in kinds if k.removeprefix("date_") != plan.date_format]
            picks = self._pick(n, kinds, present)
            cell = np.full(n, "", dtype=object)
            for k in kinds:
                cell[picks[k]] = k
            impossible = picks["date_impossible"]
            # base format first (vectorised), then the per-cell variants
            base = df.with_columns(_date_expr(col, plan.date_format).alias(col))[col]
            df = df.with_columns(_iso_keep=df[col]).with_columns(base.alias(col))
            for k in kinds:
                idx = picks[k]
                if not len(idx):
                    continue
                raw = df["_iso_keep"].gather(idx).to_list()
                fmt = k.removeprefix("date_")
                new = [_impossible(v, rng) if k == "date_impossible" else format_date(v, fmt) for v in raw]
                df = df.with_columns(df[col].scatter(idx, pl.Series(new, dtype=pl.String)))
                self.log.append((idx, col, k))
            df = df.drop("_iso_keep")
        return df

    def _rows_and_headers(self, df: pl.DataFrame, plan: FilePlan) -> Damaged:
        rng, n = self.rng, df.height
        r = self.rates
        name_col = next((c for c in df.columns if c in self.specs and self.specs[c].kind == Kind.NAME
                         and self.specs[c].required), None)
        picks = self._pick(n, ["record_id_blank", "name_blank"])
        df = self._apply(df, "record_id", picks["record_id_blank"], lambda v: None, "record_id_blank")
        if name_col:
            df = self._apply(df, name_col, picks["name_blank"], lambda v: None, "name_blank")
        df = df.with_columns(_row0=pl.int_range(n, dtype=pl.Int64))
        # exact duplicates (right after the original, as a double paste does) and blank rows
        dup = rng.random(n) < r.duplicate_row
        blank_after = rng.random(n) < r.blank_row
        order = np.arange(n, dtype=np.float64)
        extra_dup = df.filter(pl.Series(dup)).with_columns(_pos=pl.Series(order[dup] + 0.5), _kind=pl.lit("duplicate_row"))
        public = [c for c in df.columns if not c.startswith("_")]
        blanks = pl.DataFrame({c: pl.Series([None] * int(blank_after.sum()), dtype=pl.String) for c in public}).with_columns(
            _pos=pl.Series(order[blank_after] + 0.7), _kind=pl.lit("blank_row"), _row0=pl.Series(np.flatnonzero(blank_after)))
        body = df.with_columns(_pos=pl.Series(order), _kind=pl.lit(None, pl.String))
        full = pl.concat([body, extra_dup, blanks], how="diagonal_relaxed").sort("_pos").with_columns(
            _out=pl.int_range(pl.len(), dtype=pl.Int64))
        # map the cell log (indexed by original row) to output rows
        cell_log = [pl.DataFrame({"_row0": idx.astype(np.int64), "field": [f] * len(idx), "defect": [k] * len(idx)})
                    for idx, f, k in self.log]
        origin = full.filter(pl.col("_kind").is_null()).select("_row0", "_out", "_true_rid")
        logs = [pl.concat(cell_log).join(origin, on="_row0").select("_out", "_true_rid", "field", "defect")] if cell_log else []
        logs.append(full.filter(pl.col("_kind").is_not_null()).select(
            "_out", pl.when(pl.col("_kind") == "duplicate_row").then("_true_rid").alias("_true_rid"),
            pl.lit(None, pl.String).alias("field"), pl.col("_kind").alias("defect")))
        headers = self._headers(public, plan)
        logs.append(pl.DataFrame({"_out": [None] * len(headers[1]), "_true_rid": [None] * len(headers[1]),
                                  "field": [f for f, _ in headers[1]], "defect": [d for _, d in headers[1]]},
                                 schema={"_out": pl.Int64, "_true_rid": pl.String, "field": pl.String, "defect": pl.String}))
        log = pl.concat([x.cast({"_out": pl.Int64, "_true_rid": pl.String}) for x in logs])
        truth_rows = full.filter(pl.col("_kind").is_null()).select(pl.exclude(public))
        frame = full.select(public).rename(dict(zip(public, headers[0], strict=True)))
        return Damaged(frame=frame, truth_rows=truth_rows, log=log)

    def _headers(self, public: list[str], plan: FilePlan) -> tuple[list[str], list[tuple[str, str]]]:
        rng, r = self.rng, self.rates
        out, log = [], []
        for col in public:
            spec = self.specs[col]
            if plan.english_headers:
                h = col
                if not log or log[0][1] != "header_english":
                    log.insert(0, (None, "header_english"))
            else:
                h = spec.column.zh
                if spec.column.aliases and rng.random() < r.header_alias:
                    h = spec.column.aliases[int(rng.integers(len(spec.column.aliases)))]
                    log.append((col, "header_alias"))
                if spec.kind == Kind.MONEY and rng.random() < 0.8:
                    full_width = rng.random() < 0.75
                    h += "（元）" if full_width else "(元)"
                    log.append((col, "header_unit_suffix"))
                    if full_width:
                        log.append((col, "header_fullwidth_bracket"))
            if rng.random() < r.header_stray_space:
                h = (" " + h) if rng.random() < 0.5 else (h + " ")
                log.append((col, "header_stray_space"))
            out.append(h)
        return out, log


def nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)
