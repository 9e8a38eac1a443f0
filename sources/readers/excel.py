"""XLSX (and XLS) -> RawTable: first sheet via calamine (fastexcel), every value as text."""

from __future__ import annotations

import io
import re
import zipfile

import fastexcel
import polars as pl

from sources.readers.csv import drop_empty_unnamed_columns, no_header_row
from sources.readers.header_row import SEARCH_ROWS, column_names, find_header_row
from sources.readers.table import RawTable, UnreadableFile, is_rust_panic

_FIRST_ROWS_BYTES = 512 * 1024
_ROW = re.compile(rb'<(?:\w+:)?row\b[^>]*?\br="(\d+)"[^>]*?(?:/>|>(.*?)</(?:\w+:)?row>)', re.S)
_HAS_VALUE = re.compile(rb"<(?:\w+:)?(?:v|is)\b")
_NUMERIC_CELL = re.compile(
    rb'<(?:\w+:)?c\b(?P<attrs>[^>]*)>(?:<(?:\w+:)?f\b[^>]*/>|<(?:\w+:)?f\b[^>]*>[^<]*</(?:\w+:)?f>)?'
    rb"<(?:\w+:)?v>(?P<value>[^<]+)</(?:\w+:)?v>"
)
_TEXT_TYPE = re.compile(rb'\bt="(?:s|str|inlineStr|b|e)"')
_LONG_DIGITS = r"^-?\d{16,}$"
#: doubles at or above this have lost digits: Excel shows them as 5.29901E+17.
_EXACT_LIMIT = 1e15


#: Excel's own limits: a cell reference beyond them is damage, not data.
EXCEL_ROWS, EXCEL_COLUMNS = 1_048_576, 16_384
#: calamine holds a sheet as a dense grid from its first to its last cell (about 32 bytes a cell): a
#: stray value far below or right of the table (XFD1048576) asks for hundreds of GB and aborts the
#: whole process, which no ``except`` can catch. 40 million cells is 40 columns of Excel's every row.
MAX_GRID_CELLS = 40_000_000
#: a cell's (``A1``) or a row's (``1``) reference; calamine takes lower-case column letters too.
_REFERENCE = r'r="[A-Za-z]*[0-9]+"'
#: a reference past column AL (the 38th) or with a 7-digit row: without one, the grid is at most
#: 38 x 1,048,576 cells, under MAX_GRID_CELLS, and one scan of the XML proves it.
_WIDE_OR_DEEP = re.compile(rb'r="(?:(?:[A-Za-z]{3,}|[B-Zb-z][A-Za-z]|[Aa][M-Zm-z])[0-9]|[A-Za-z]*[0-9]{7,}")')


def read_excel_bytes(data: bytes, *, xlsx: bool = True) -> RawTable:
    if xlsx and not zipfile.is_zipfile(io.BytesIO(data)):
        raise damaged_excel()
    if xlsx:
        _refuse_oversized_grid(data)
    try:
        sheet = fastexcel.read_excel(data).load_sheet(0, header_row=None, dtypes="string")
        grid = sheet.to_polars()
    except BaseException as error:  # calamine reports damage in many shapes; all mean the same to a department
        if not (isinstance(error, Exception) or is_rust_panic(error)):
            raise
        raise damaged_excel() from error
    if grid.height == 0:
        raise empty_sheet()
    grid = grid.select(pl.all().cast(pl.String))
    top = [list(row) for row in grid.head(SEARCH_ROWS).iter_rows()]
    index = find_header_row(top)
    if index is None:
        raise no_header_row()
    # calamine starts the grid at the first row holding a value; count the empty rows above it.
    offset = _first_value_row(data) - 1 if xlsx else 0
    header_cells = top[index]
    frame = grid.slice(index + 1)
    frame = frame.rename(dict(zip(frame.columns, column_names(header_cells))))
    frame = drop_empty_unnamed_columns(frame, [not (c or "").strip() for c in header_cells])
    frame = _as_excel_shows(frame, data if xlsx else None)
    header_row = offset + index + 1
    return RawTable(frame=frame, header_row=header_row, first_data_row=header_row + 1, encoding=None)


def excel_general(value: float) -> str:
    """A number the way Excel's General format shows it in a default-width cell."""
    if value.is_integer() and abs(value) < _EXACT_LIMIT:
        return str(int(value))
    if abs(value) >= _EXACT_LIMIT:
        mantissa, exponent = f"{value:.5E}".split("E")
        mantissa = mantissa.rstrip("0").rstrip(".")
        return f"{mantissa}E{exponent[0]}{int(exponent[1:]):02d}"
    return f"{value:.15g}"


def _as_excel_shows(frame: pl.DataFrame, xlsx_data: bytes | None) -> pl.DataFrame:
    """Dates without a midnight time; numbers too big for a double as Excel shows them.

    calamine renders a numeric cell 529901200501011234 as the double's exact
    digits (…1328), digits nobody ever typed. Only cells stored as numbers get
    the Excel form; a text cell with the same digits is kept as typed.
    """
    frame = frame.with_columns(pl.all().str.strip_suffix(" 00:00:00"))
    if xlsx_data is None:
        return frame
    # positions, not names: a header such as "^.*$" would be a regex to pl.col
    suspects = [i for i, n in enumerate(frame.select(pl.all().str.contains(_LONG_DIGITS).sum()).row(0)) if n]
    if not suspects:
        return frame
    shown = _large_numeric_cells(xlsx_data)
    if not shown:
        return frame
    return frame.with_columns(pl.nth(suspects).replace(shown))


def _large_numeric_cells(data: bytes) -> dict[str, str]:
    """calamine's rendering -> Excel's rendering, for every numeric cell >= 1e15 in the first sheet."""
    shown: dict[str, str] = {}
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        xml = archive.read(_first_sheet_member(archive))
    for match in _NUMERIC_CELL.finditer(xml):
        if _TEXT_TYPE.search(match["attrs"]):
            continue
        try:
            value = float(match["value"])
        except ValueError:
            continue
        if abs(value) >= _EXACT_LIMIT and value.is_integer():
            shown[str(int(value))] = excel_general(value)
    return shown


def _first_sheet_member(archive: zipfile.ZipFile) -> str:
    """Path of the workbook's first sheet (what calamine calls sheet 0)."""
    workbook = archive.read("xl/workbook.xml")
    rels = archive.read("xl/_rels/workbook.xml.rels")
    sheet = re.search(rb'<(?:\w+:)?sheet\b[^>]*?\br:id="([^"]+)"', workbook) or re.search(
        rb'<(?:\w+:)?sheet\b[^>]*?\bid="([^"]+)"', workbook)
    if sheet:
        for rel in re.finditer(rb"<Relationship\b[^>]*>", rels):
            if re.search(rb'\bId="' + re.escape(sheet[1]) + rb'"', rel[0]):
                target = re.search(rb'\bTarget="([^"]+)"', rel[0])[1].decode()
                return target.lstrip("/") if target.startswith("/") else "xl/" + target
    return "xl/worksheets/sheet1.xml"


def _refuse_oversized_grid(data: bytes) -> None:
    """Raise UnreadableFile when the first sheet's cells span more than calamine can hold."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            xml = archive.read(_first_sheet_member(archive))
    except Exception:  # damage of any other kind: calamine reports it
        return
    if _WIDE_OR_DEEP.search(xml) is None:
        return
    text = pl.Series([xml.decode("utf-8", "replace")])
    references = text.str.extract_all(_REFERENCE).explode().drop_nulls().str.slice(3).str.strip_suffix('"')
    rows = references.str.extract(r"([0-9]+)$").str.to_integer(strict=False)
    if rows.is_empty():
        return
    letters = references.str.extract(r"^([A-Za-z]+)").drop_nulls().str.to_uppercase().unique().to_list()
    columns = [_column_number(column) for column in letters] or [1]
    if rows.null_count() or rows.max() > EXCEL_ROWS or max(columns) > EXCEL_COLUMNS:
        raise damaged_excel()
    cells = (rows.max() - rows.min() + 1) * (max(columns) - min(columns) + 1)
    if cells > MAX_GRID_CELLS:
        raise stray_cells(f"{letters[columns.index(max(columns))]}{rows.max()}")  # where Ctrl+End goes


def _column_number(letters: str) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + ord(letter) - ord("A") + 1
    return number


def _first_value_row(data: bytes) -> int:
    """1-based number of the first sheet row that holds a value (1 if unknown)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive, archive.open(_first_sheet_member(archive)) as sheet:
            head = sheet.read(_FIRST_ROWS_BYTES)
    except (KeyError, zipfile.BadZipFile, OSError, TypeError):
        return 1
    for match in _ROW.finditer(head):
        if match[2] and _HAS_VALUE.search(match[2]):
            return int(match[1])
    return 1


def damaged_excel() -> UnreadableFile:
    return UnreadableFile(
        "The Excel file is damaged or incomplete (perhaps truncated while copying), so it cannot be opened.",
        "Excel 文件已损坏或不完整（可能在复制或上传时中断），无法打开。",
        "请在本机用 Excel 打开确认无误后重新保存为 .xlsx，再完整发送一次。",
        "Open the file in Excel on your computer to check it, save it again as .xlsx and send it again in full.",
    )


def stray_cells(far_cell: str) -> UnreadableFile:
    return UnreadableFile(
        f"The first sheet reaches cell {far_cell}, far below or to the right of any table: such a sheet "
        "cannot be read (it would need more memory than there is).",
        f"第一个工作表的内容一直延伸到单元格 {far_cell}，远远超出表格范围，无法读取。",
        f"请在 Excel 中按 Ctrl+End 找到最后一个单元格（{far_cell}），删除表格下方和右侧多余的行、列后保存，再重新发送。",
        f"In Excel, press Ctrl+End to find the last cell ({far_cell}), delete the stray rows and columns below "
        "and to the right of the table, save, and send the file again.",
    )


def empty_sheet() -> UnreadableFile:
    return UnreadableFile(
        "The first sheet of the Excel file is empty.",
        "Excel 文件的第一个工作表是空的。",
        "请把数据放在第一个工作表中后重新发送。",
        "Put the data on the first sheet and send the file again.",
    )
