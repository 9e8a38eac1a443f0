"""The fuzz targets: one function per input format or normaliser, ``bytes -> None``.

A target returns when the code under test kept its contract and raises
otherwise; any exception out of a target is a finding. The contracts are
the ones the rest of Hearth relies on:

- a reader (called directly, not through ``read_table_bytes``, whose
  catch-all would turn a reader's crash into a vague report) returns a
  ``RawTable`` of ``pl.String`` columns with unique names and sane row
  numbers, or raises ``UnreadableFile`` with reasons and hints in both
  languages;
- a normaliser never raises, keeps the row count and the contracted dtypes,
  gives what its expression reference gives (the fast path used by
  ``schemas.validate`` against ``field_stages``), and a normalised value fed
  back in comes out the same (an ID that was valid stays valid).
"""

from __future__ import annotations

import io
import zipfile
from datetime import date
from functools import lru_cache

import polars as pl

from schemas.columns import ColumnSpec, Kind
from schemas.departments import DEPARTMENTS, columns
from schemas.normalise import run
from schemas.normalise.id_number import STATUSES, check_char
from schemas import validate
from schemas.validate import field_schema, field_stages
from sources.readers.csv import read_csv_bytes
from sources.readers.excel import read_excel_bytes
from sources.readers.parquet import read_parquet_bytes
from sources.readers.table import RawTable, UnreadableFile


class ContractBroken(AssertionError):
    """The code under test returned something its callers do not expect."""


def require(condition: bool, message: str) -> None:
    if not condition:
        raise ContractBroken(message)


# ---------------------------------------------------------------- readers


def table_or_report(read, data: bytes) -> RawTable | None:
    try:
        table = read(data)
    except UnreadableFile as error:
        require(bool(error.reason_en and error.reason_zh and error.hint_en and error.hint_zh),
                f"report without reasons or hints: {error!r}")
        return None
    require(isinstance(table, RawTable), f"not a RawTable: {type(table)}")
    frame = table.frame
    require(all(dtype == pl.String for dtype in frame.dtypes), f"non-text columns: {frame.schema}")
    require(len(set(frame.columns)) == frame.width, f"repeated column names: {frame.columns}")
    # A CSV header cell may hold a quoted line break: the data then starts more than one line below.
    require(0 <= table.header_row < table.first_data_row, f"rows {table.header_row}, {table.first_data_row}")
    return table


#: how ``csv_any_encoding`` writes its text, chosen by the input's first byte. The first three are
#: what departments are asked to send: text in them must come back without mojibake.
ENCODINGS = ("utf-8", "utf-8-sig", "gb18030", "gbk", "utf-16", "big5", "shift_jis", "latin-1")
TRUSTED = ENCODINGS[:3]


def csv_any_encoding(data: bytes) -> None:
    """First byte 0: the rest is the file as is (any bytes, any encoding). Otherwise the rest is
    read as UTF-8 text and written in ``ENCODINGS[byte % 8]`` (unencodable characters dropped)."""
    if not data:
        return
    mode, rest = data[0], data[1:]
    if mode == 0:
        table_or_report(read_csv_bytes, rest)
        return
    encoding = ENCODINGS[mode % len(ENCODINGS)]
    text = rest.decode("utf-8", "replace").encode(encoding, "ignore").decode(encoding)
    encoded = text.encode(encoding)
    table = table_or_report(read_csv_bytes, encoded)
    if table is None or encoding not in TRUSTED or _ambiguous(encoded, encoding):
        return
    # Every character read must be one that was written: anything else is mojibake.
    written = set(text)
    for column in table.frame.columns:
        require(set(column) <= written | set("_0123456789column"), f"header {column!r} not in the text")
    for cell in table.frame.select(pl.concat_str(pl.all(), ignore_nulls=True)).to_series().to_list():
        require(set(cell or "") <= written, f"cell text not in the {encoding} file: {cell!r}")


def _ambiguous(encoded: bytes, encoding: str) -> bool:
    """GB18030 bytes that are also valid UTF-8 are read as UTF-8 (by design: UTF-8 is tried first)."""
    if encoding != "gb18030" or encoded.isascii():
        return False
    try:
        encoded.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


@lru_cache(maxsize=1)
def xlsx_template() -> dict[str, bytes]:
    """The members of a small workbook as xlsxwriter writes it (a title row, a header, rows)."""
    return dict(_members(seed_xlsx()))


def _members(data: bytes):
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for info in archive.infolist():
            yield info.filename, archive.read(info)


SHEET = "xl/worksheets/sheet1.xml"
STRINGS = "xl/sharedStrings.xml"


def xlsx(data: bytes) -> None:
    """First byte 0: the rest is the file as is. 1: the rest is the first sheet's XML inside an
    otherwise valid workbook. 2: the rest is the shared-strings XML. Else: both, split at the first NUL."""
    if not data:
        return
    mode, rest = data[0] % 4, data[1:]
    if mode == 0:
        table_or_report(read_excel_bytes, rest)
        return
    members = dict(xlsx_template())
    if mode == 1:
        members[SHEET] = rest
    elif mode == 2:
        members[STRINGS] = rest
    else:
        sheet, _, strings = rest.partition(b"\x00")
        members[SHEET], members[STRINGS] = sheet, strings
    table_or_report(read_excel_bytes, zip_of(members))


def zip_of(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def parquet(data: bytes) -> None:
    """First byte 0: the rest is the file as is. Otherwise the rest is lines of text, the first
    the column names (tab-separated), the others values; the byte picks each column's type."""
    if not data:
        return
    mode, rest = data[0], data[1:]
    if mode == 0:
        table_or_report(read_parquet_bytes, rest)
        return
    lines = rest.decode("utf-8", "replace").split("\n")
    names = lines[0].split("\t")[:64]
    if len(set(names)) != len(names):
        return  # Parquet itself cannot hold two columns of one name
    rows = [line.split("\t") for line in lines[1:64]]
    values = [[row[i] if i < len(row) else None for row in rows] for i in range(len(names))]
    frame = pl.DataFrame({name: pl.Series(name, column, dtype=pl.String) for name, column in zip(names, values)})
    kinds = [(mode + i) % len(PARQUET_KINDS) for i in range(len(names))]
    frame = frame.with_columns(PARQUET_KINDS[k](pl.nth(i)) for i, k in enumerate(kinds)) if frame.width else frame
    buffer = io.BytesIO()
    frame.write_parquet(buffer)
    table = table_or_report(read_parquet_bytes, buffer.getvalue())
    if table is not None:
        require(table.frame.columns == names and table.frame.height == len(rows), "shape changed on the way")
        # text, whether stored as strings or as UTF-8 or GB18030 bytes, comes back as written
        texts = [i for i, k in enumerate(kinds) if k in TEXT_KINDS]
        written = pl.DataFrame({names[i]: values[i] for i in texts}, schema={names[i]: pl.String for i in texts})
        require(table.frame.select(pl.nth(texts)).equals(written), "text changed on the way")


#: the column types a Parquet export from pandas, Spark or a database may hold, made from text.
PARQUET_KINDS = [
    lambda column: column,
    lambda column: column.cast(pl.Float64, strict=False),
    lambda column: column.str.to_datetime("%Y-%m-%d", strict=False, time_unit="us"),
    lambda column: column.str.split(","),
    lambda column: column.cast(pl.Binary),
    lambda column: column.cast(pl.Int64, strict=False),
    lambda column: column.str.to_date("%Y-%m-%d", strict=False),
    lambda column: column.cast(pl.Decimal(18, 2), strict=False),
    # a legacy system's GBK strings stored as bytes
    lambda column: column.map_elements(lambda text: text.encode("gb18030"), return_dtype=pl.Binary),
]
TEXT_KINDS = {0, 4, 8}


# ---------------------------------------------------------------- normalisers


def spec_of(kind: Kind) -> ColumnSpec:
    return next(s for d in DEPARTMENTS for s in columns(d) if s.kind == kind)


ID_SPEC, DATE_SPEC, NAME_SPEC = spec_of(Kind.ID_NUMBER), spec_of(Kind.DATE), spec_of(Kind.NAME)
#: a line that is exactly this is a missing value (null), not text.
NULL_LINE = "\x00"


def values_of(data: bytes) -> list[str | None]:
    """The input as UTF-8 text, one value a line (at most 256)."""
    lines = data.decode("utf-8", "replace").split("\n")[:256]
    return [None if line == NULL_LINE else line for line in lines]


def normalised(spec: ColumnSpec, values: list[str | None]) -> pl.DataFrame:
    """What ``validate`` computes for one field, checked against the contract and, where ``validate``
    has a faster path than the normaliser's expression stages (``field_frame``), against those."""
    frame = pl.DataFrame({spec.name: values}, schema={spec.name: pl.String})
    expected = {name: dtype for name, dtype in field_schema(spec).items() if not name.endswith("_raw")}
    reference = run(frame, field_stages(spec, None, county_hint="529901")).select(list(expected))
    fast_path = getattr(validate, "field_frame", None)
    out = fast_path(spec, frame, None, "529901").select(list(expected)) if fast_path else reference
    require(out.schema == pl.Schema(expected), f"dtypes {out.schema} are not {expected}")
    require(out.height == len(values), "row count changed")
    require(out.equals(reference), f"fast path and reference differ:\n{_differences(out, reference, values)}")
    return out


def _differences(fast: pl.DataFrame, reference: pl.DataFrame, values: list) -> str:
    rows = []
    for i, (a, b) in enumerate(zip(fast.iter_rows(), reference.iter_rows())):
        if a != b:
            rows.append(f"  {values[i]!r}: fast {a} reference {b}")
    return "\n".join(rows[:5])


def as_text(value) -> str | None:
    if value is None:
        return None
    return value.isoformat() if isinstance(value, date) else str(value)


def id_numbers(data: bytes) -> None:
    values = values_of(data)
    out = normalised(ID_SPEC, values)
    f = ID_SPEC.name
    require(set(out[f"{f}_status"].to_list()) <= set(STATUSES), "unknown status")
    for value, status, birth in zip(out[f], out[f"{f}_status"], out[f"{f}_birth_date"]):
        if status == "valid":
            require(len(value) == 18 and check_char(value[:17]) == value[17], f"'valid' ID {value!r}")
            require(birth is not None and f"{birth:%Y%m%d}" == value[6:14], f"birth {birth} of {value!r}")
    again = normalised(ID_SPEC, [as_text(v) for v in out[f]])
    for before, status, after, status_again in zip(out[f], out[f"{f}_status"], again[f], again[f"{f}_status"]):
        if status in ("valid", "legacy_converted"):
            require((after, status_again) == (before, "valid"), f"{before!r} ({status}) -> {after!r} ({status_again})")


def dates(data: bytes) -> None:
    values = values_of(data)
    out = normalised(DATE_SPEC, values)
    f = DATE_SPEC.name
    require(all(1900 <= d.year <= 2099 for d in out[f].drop_nulls()), "date outside 1900-2099")
    again = normalised(DATE_SPEC, [as_text(v) for v in out[f]])
    require(again[f].equals(out[f]), "a normalised date changed when read again")


def names(data: bytes) -> None:
    values = values_of(data)
    out = normalised(NAME_SPEC, values)
    f = NAME_SPEC.name
    require(out[f].is_null().equals(out[f"{f}_pinyin"].is_null()), "a name without pinyin or pinyin without a name")
    again = normalised(NAME_SPEC, out[f].to_list())
    require(again.equals(out), "a normalised name (or its pinyin) changed when read again")


TARGETS = {"csv": csv_any_encoding, "xlsx": xlsx, "parquet": parquet,
           "id_number": id_numbers, "dates": dates, "names": names}


def any_target(data: bytes) -> None:
    """The smoke run's single process: the first byte picks the target."""
    if data:
        list(TARGETS.values())[data[0] % len(TARGETS)](data[1:])


# ---------------------------------------------------------------- seeds


HEADERS = ["记录编号", "姓名", "身份证号", "性别", "出生日期", "村代码", "月救助金额（元）"]
ROWS = [
    ["0001", "王芳", "52990119800101002X", "女", "1980-01-01", "529901100001", "450"],
    ["0002", "阿依古丽·买买提", "5.29901E+17", "2", "2005/1/1", "", "450.5"],
    ["0003", "李 四", "529901200501011234", "男", "20050101", "529901100002", ""],
]


def seed_xlsx() -> bytes:
    import xlsxwriter

    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = workbook.add_worksheet()
    sheet.write(0, 0, "青石县2026年低保对象花名册")
    for offset, row in enumerate([HEADERS, *ROWS], start=2):
        for column, value in enumerate(row):
            sheet.write_string(offset, column, value)
    sheet.write_number(6, 2, 529901200501011234)  # an ID Excel stored as a number
    sheet.write_datetime(6, 4, __import__("datetime").datetime(1980, 1, 1))
    workbook.close()
    return buffer.getvalue()


def seeds() -> dict[str, list[bytes]]:
    """Valid inputs of each target, for the fuzzer to start from."""
    csv_text = "青石县2026年低保对象花名册\r\n" + "\r\n".join(",".join(r) for r in [HEADERS, *ROWS]) + "\r\n"
    members = xlsx_template()
    parquet_text = "\n".join("\t".join(r) for r in [["record_id", "name", "id_number", "birth_date"],
                                                    ["0001", "王芳", "52990119800101002X", "1980-01-01"],
                                                    ["0002", "李四", "5.29901E+17", "2005-01-01"]])
    buffer = io.BytesIO()
    pl.DataFrame([list(c) for c in zip(*ROWS)], schema=HEADERS, orient="col").write_parquet(buffer)
    return {
        "csv": [b"\x00" + csv_text.encode("utf-8"), b"\x00" + csv_text.encode("gb18030"),
                b"\x01" + csv_text.encode("utf-8"), b"\x02" + csv_text.encode("utf-8"),
                b"\x03" + csv_text.replace(",", "\t").encode("utf-8")],
        "xlsx": [b"\x00" + seed_xlsx(), b"\x01" + members[SHEET], b"\x02" + members[STRINGS],
                 b"\x03" + members[SHEET] + b"\x00" + members[STRINGS]],
        "parquet": [b"\x00" + buffer.getvalue(), b"\x01" + parquet_text.encode("utf-8"),
                    b"\x06" + parquet_text.encode("utf-8")],
        "id_number": ["\n".join(["52990119800101002X", "52990119800101002x", " 529901 19800101 002X",
                                 "'52990119800101002X", "５２９９０１１９８００１０１００２Ｘ", "529901800101002",
                                 "5.29901E+17", "529901198001010000", NULL_LINE, ""]).encode("utf-8")],
        "dates": ["\n".join(["1980-01-01", "1980/1/1", "19800101", "1980年1月1日", "1980-01-01 00:00:00",
                             "29221", "2023-02-30", "1899-12-31", NULL_LINE, "不详"]).encode("utf-8")],
        "names": ["\n".join(["王芳", "王 芳", "阿依古丽·买买提", "張三", "ＡＢＣ", "李\u3000四", NULL_LINE, " "])
                  .encode("utf-8")],
    }
