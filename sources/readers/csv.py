"""CSV -> RawTable: decode, find the header row, let polars read every value as text."""

from __future__ import annotations

import csv
import io

import polars as pl

from sources.readers.encoding import (
    fallback_decode, looks_binary, mixed_encoding_lines, mixed_encodings, not_a_table, strict_decode, unknown_encoding,
)
from sources.readers.header_row import SEARCH_ROWS, column_names, find_header_row
from sources.readers.table import RawTable, UnreadableFile

#: enough text to hold the title rows, the header and a few data rows.
SAMPLE_CHARS = 256 * 1024
SEPARATORS = (",", "\t", ";")
# The csv module refuses fields over 128 KiB by default; polars reads the body without such a
# limit, so a long cell (a pasted document) must not make the header search fail.
csv.field_size_limit(max(csv.field_size_limit(), 1 << 30))


def read_csv_bytes(data: bytes) -> RawTable:
    if looks_binary(data):
        raise not_a_table()
    # The header search reads at most SAMPLE_CHARS characters, at most 4 bytes each (one more character
    # tells it the text goes on): a UTF-8 file is passed to polars as bytes, so that is all it decodes.
    decoded = strict_decode(data, utf8_prefix=4 * (SAMPLE_CHARS + 1))
    if decoded is None or decoded[1] == "gb18030":
        if (lines := mixed_encoding_lines(data)) is not None:
            raise mixed_encodings(*lines)
    trusted = decoded is not None
    text, encoding = decoded if trusted else fallback_decode(data)
    found = _find_header(text)
    if found is None and encoding == "gb18030":
        # GB18030 decodes almost any byte pairs (Big5, Shift-JIS...): mojibake headers
        # mean the guess was wrong, so let charset-normalizer have a go.
        try:
            text, encoding = fallback_decode(data)
            found = _find_header(text)
        except UnreadableFile:
            pass
    if found is None:
        # A guessed encoding that yields no header is most likely the wrong guess.
        raise no_header_row() if trusted else unknown_encoding()
    separator, header_cells, header_line, first_data_line, sample_width = found
    # polars wants UTF-8; a UTF-8 file is passed on as is (minus the BOM), saving a copy.
    if encoding == "utf-8":
        body = data
    elif encoding == "utf-8-sig":
        body = data[3:]
    else:
        body = text.encode("utf-8")
    frame = _read_body(body, separator, first_data_line - 1, max(len(header_cells), sample_width))
    names = column_names(header_cells)
    names += [f"column_{i}" for i in range(len(names) + 1, frame.width + 1)]
    frame = frame.rename(dict(zip(frame.columns, names)))
    frame = drop_empty_unnamed_columns(frame, [not (c or "").strip() for c in header_cells])
    return RawTable(frame=frame, header_row=header_line, first_data_row=first_data_line, encoding=encoding)


def _find_header(text: str) -> tuple[str, list[str], int, int, int] | None:
    """(separator, header cells, header line, first data line, widest sampled row)."""
    sample = text[:SAMPLE_CHARS]
    if len(text) > SAMPLE_CHARS and "\n" in sample:
        sample = sample[: sample.rindex("\n") + 1]
    for separator in SEPARATORS:
        # Lines end at "\n" only, as polars counts them for ``skip_lines``: a quoted "\r" inside a
        # header cell must not shift the body by a row (that row would be silently lost).
        reader = csv.reader(io.StringIO(sample, newline="\n"), delimiter=separator)
        rows: list[tuple[list[str], int, int]] = []
        last_line = 0
        try:
            for cells in reader:
                rows.append((cells, last_line + 1, reader.line_num))
                last_line = reader.line_num
                if len(rows) >= SEARCH_ROWS + 20:
                    break
        except csv.Error:
            continue
        index = find_header_row([cells for cells, _, _ in rows])
        if index is not None:
            cells, start_line, end_line = rows[index]
            width = max(len(c) for c, _, _ in rows)
            return separator, cells, start_line, end_line + 1, width
    return None


def _read_body(body: bytes, separator: str, skip_lines: int, width: int) -> pl.DataFrame:
    def read(width: int) -> pl.DataFrame:
        return pl.read_csv(
            body, has_header=False, separator=separator, skip_lines=skip_lines, infer_schema=False,
            schema={f"c{i}": pl.String for i in range(width)}, missing_columns="insert",
            raise_if_empty=False,
        )

    try:
        return read(width)
    except pl.exceptions.NoDataError:
        return pl.DataFrame(schema={f"c{i}": pl.String for i in range(width)})
    except pl.exceptions.ComputeError as error:
        if "more fields" in str(error):
            # Rare: a row wider than every sampled row. Count once in Python, keep every value.
            rows = csv.reader(io.StringIO(body.decode("utf-8"), newline=""), delimiter=separator)
            try:
                return read(max((len(r) for r in rows), default=width))
            except pl.exceptions.ComputeError:
                pass
    # polars refuses a quote inside an unquoted cell (5"x) and a quoted cell that never closes.
    return _read_body_in_python(body, separator, skip_lines, width)


def _read_body_in_python(body: bytes, separator: str, skip_lines: int, width: int) -> pl.DataFrame:
    """The body as the header search reads it (a quote inside a cell is text, as in Excel), or a
    report naming the line where a quoted cell opens and never closes (the rest of the file would
    silently become one cell)."""
    lines = io.StringIO(body.decode("utf-8", "replace"), newline="\n")
    for _ in range(skip_lines):
        lines.readline()
    reader = csv.reader(lines, delimiter=separator, strict=True)
    rows, record_start = [], skip_lines + 1
    try:
        for cells in reader:
            rows.append([cell or None for cell in cells])
            record_start = skip_lines + reader.line_num + 1
    except csv.Error as error:
        raise quote_never_closed(record_start) from error
    width = max([width, *(len(cells) for cells in rows)])
    return pl.DataFrame([cells + [None] * (width - len(cells)) for cells in rows], orient="row",
                        schema={f"c{i}": pl.String for i in range(width)})


def drop_empty_unnamed_columns(frame: pl.DataFrame, blank_header: list[bool]) -> pl.DataFrame:
    """Trailing separators make nameless, empty columns; nameless columns with values stay."""
    # By position: polars reads a name like "^.*$" as a regex.
    extra = [i for i in range(frame.width) if i >= len(blank_header) or blank_header[i]]
    if not extra:
        return frame
    counts = frame.select(pl.nth(extra).count()).row(0)
    empty = {i for i, n in zip(extra, counts) if n == 0}
    return frame.select(pl.nth([i for i in range(frame.width) if i not in empty])) if empty else frame


def quote_never_closed(line: int) -> UnreadableFile:
    return UnreadableFile(
        f"Line {line} starts a quoted cell (with a quotation mark \") that is never closed properly, so the "
        "rows from there on cannot be told apart.",
        f"第 {line} 行有一个引号（\"）开始的单元格没有正确结束，从这里开始的各行无法区分。",
        f"请检查第 {line} 行：删除多余的引号，或把整个单元格用引号括起来（单元格内的引号写成两个 \"\"），"
        "也可以用 Excel 另存为 .xlsx 后重新发送。",
        f"Check line {line}: remove the stray quotation mark, or quote the whole cell (a quotation mark inside "
        "a cell is written twice: \"\"); or save the table as .xlsx in Excel and send that.",
    )


def no_header_row() -> UnreadableFile:
    return UnreadableFile(
        "No header row found: none of the first rows holds recognisable column names "
        "(e.g. 姓名, 身份证号, or the canonical English names).",
        "未找到列名行：文件前几行中没有可识别的列名（如“姓名”“身份证号”）。",
        "请发送带列名行的表格：第一行（或标题行下方）为列名，列名请使用规定的中文列名。",
        "Send the table with its header row (first row, or just below a title row) using the agreed Chinese headers.",
    )
