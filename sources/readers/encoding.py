"""Decode CSV bytes: strict UTF-8 / UTF-8-BOM / GB18030 first, charset-normalizer last.

The strict decodes are fast and decisive for what departments send (Excel's
"CSV UTF-8" and plain "CSV" on Chinese Windows, i.e. GBK, a subset of
GB18030). charset-normalizer is only asked when all of them fail, and its
answer is only trusted if a header row is then found (the caller checks).
"""

from __future__ import annotations

import codecs
import re

import polars as pl

from sources.readers.table import UnreadableFile

BINARY_SAMPLE = 64 * 1024
_CONTROL_BYTES = bytes(b for b in range(32) if b not in (9, 10, 13)) + b"\x7f"
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def looks_binary(data: bytes) -> bool:
    """NUL or many control bytes near the start: an image, archive, PDF, ... not text."""
    sample = data[:BINARY_SAMPLE]
    if sample.startswith(_UTF16_BOMS):
        return False
    if b"\x00" in sample:
        return True
    controls = len(sample) - len(sample.translate(None, _CONTROL_BYTES))
    return controls > max(8, len(sample) // 100)


def strict_decode(data: bytes, *, utf8_prefix: int | None = None) -> tuple[str, str] | None:
    """(text, encoding) from the expected encodings, or None.

    With ``utf8_prefix``, a UTF-8 file is still checked whole but only its first ``utf8_prefix``
    bytes are decoded (a character cut at the end is left out): reading the table needs the bytes,
    not a Python string of them.
    """
    if data.startswith(codecs.BOM_UTF8):
        body = data[len(codecs.BOM_UTF8):]
        return (_utf8_text(body, utf8_prefix), "utf-8-sig") if is_utf8(body) else None
    if is_utf8(data):
        return _utf8_text(data, utf8_prefix), "utf-8"
    try:
        return data.decode("gb18030"), "gb18030"
    except UnicodeDecodeError:
        return None


def is_utf8(data: bytes) -> bool:
    """Whether ``data`` is valid UTF-8, checked by polars (several times faster than decoding it in Python)."""
    if _first_invalid_utf8(data[:1 << 16], final=len(data) <= 1 << 16) is not None:
        return False  # a GBK file shows it in its first line: no need to copy it all into polars
    try:
        pl.Series([data], dtype=pl.Binary).cast(pl.String)
    except pl.exceptions.PolarsError:
        return False
    return True


def _utf8_text(data: bytes, prefix: int | None) -> str:
    if prefix is None or len(data) <= prefix:
        return data.decode("utf-8")
    return data[:prefix].decode("utf-8", "ignore")  # valid UTF-8: only a character cut at the end is dropped


#: how far past the first non-UTF-8 line to look for UTF-8 Chinese lines.
MIXED_WINDOW = 1024 * 1024
_CHINESE = re.compile("[\u4e00-\u9fff]")


def mixed_encoding_lines(data: bytes) -> tuple[int, int] | None:
    """(a UTF-8 line with Chinese text, the first line that is not UTF-8), when a file holds both.

    GBK/GB18030 Chinese never decodes as UTF-8 Chinese, so a line that is
    UTF-8 with Chinese characters proves the file was meant as UTF-8 (or
    rows were pasted in from one): decoding it all as GB18030 would silently
    turn those names into mojibake. Looks before the first bad line and in a
    bounded window after it.
    """
    body = data[len(codecs.BOM_UTF8):] if data.startswith(codecs.BOM_UTF8) else data
    bad = _first_invalid_utf8(body)
    if bad is None:
        return None
    bad_line = body.count(b"\n", 0, bad) + 1
    before = body[: body.rfind(b"\n", 0, bad) + 1].decode("utf-8")
    if (found := _CHINESE.search(before)) is not None:
        return before.count("\n", 0, found.start()) + 1, bad_line
    after_start = body.find(b"\n", bad) + 1
    if after_start == 0:
        return None
    window = body[after_start: after_start + MIXED_WINDOW].decode("utf-8", "replace").split("\n")
    # The first line with Chinese and no replacement character, found by polars (a Python loop over
    # the lines cost more than reading the file).
    proof = pl.Series(window, dtype=pl.String).to_frame("line").select(pl.arg_where(
        pl.col("line").str.contains(_CHINESE.pattern) & ~pl.col("line").str.contains("\ufffd", literal=True)))
    return (bad_line + proof.item(0, 0) + 1, bad_line) if proof.height else None


def _first_invalid_utf8(data: bytes, chunk: int = 1 << 16, *, final: bool = True) -> int | None:
    """Where ``data`` stops being UTF-8, reading only as far as that (``data.decode`` would allocate the whole
    text); with ``final=False`` a character cut at the end of ``data`` is not an error."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    for start in range(0, len(data), chunk):
        try:
            decoder.decode(data[start: start + chunk], final=final and start + chunk >= len(data))
        except UnicodeDecodeError as error:
            # error.start counts from the bytes the decoder held back from the previous chunk.
            return start - len(decoder.getstate()[0]) + error.start
    return None


def fallback_decode(data: bytes) -> tuple[str, str]:
    """Ask charset-normalizer; raise UnreadableFile when it has no answer."""
    if data.startswith(_UTF16_BOMS):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            pass
    from charset_normalizer import from_bytes

    best = from_bytes(data[:1024 * 1024]).best()
    if best is not None:
        try:
            return data.decode(best.encoding), best.encoding
        except (UnicodeDecodeError, LookupError):
            pass
    raise unknown_encoding()


def unknown_encoding() -> UnreadableFile:
    return UnreadableFile(
        "The file's character encoding is not one we can read (expected UTF-8 or GBK/GB18030).",
        "无法识别文件的字符编码（应为 UTF-8 或 GBK/GB18030），中文内容无法正确读取。",
        "请在 Excel 中“另存为”→“CSV UTF-8（逗号分隔）”或直接发送 .xlsx 文件。",
        "In Excel use Save As -> 'CSV UTF-8 (comma delimited)', or send the .xlsx file instead.",
    )


def not_a_table() -> UnreadableFile:
    return UnreadableFile(
        "The file is not a text table: it contains binary data (perhaps an image, archive or a "
        "different file renamed to .csv).",
        "文件不是表格文本：内容为二进制数据（可能是图片、压缩包，或其他文件被改了扩展名）。",
    )


def mixed_encodings(utf8_line: int, other_line: int) -> UnreadableFile:
    return UnreadableFile(
        f"The file mixes two character encodings: line {utf8_line} is UTF-8 but line {other_line} is not "
        "(perhaps rows copied in from a GBK file). Reading it either way would garble some names.",
        f"文件中混用了两种字符编码：第 {utf8_line} 行是 UTF-8，第 {other_line} 行却不是（可能是从 GBK 编码的文件中复制的行），"
        "无论按哪种编码读取都会有姓名变成乱码。",
        "请在 Excel 中打开后“另存为”→“CSV UTF-8（逗号分隔）”，确认中文显示正常后重新发送，或直接发送 .xlsx 文件。",
        "Open it in Excel, Save As -> 'CSV UTF-8 (comma delimited)', check the Chinese text looks right, "
        "and send it again, or send the .xlsx file instead.",
    )
