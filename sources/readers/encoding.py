"""Decode CSV bytes: strict UTF-8 / UTF-8-BOM / GB18030 first, charset-normalizer last.

The strict decodes are fast and decisive for what departments send (Excel's
"CSV UTF-8" and plain "CSV" on Chinese Windows, i.e. GBK, a subset of
GB18030). charset-normalizer is only asked when all of them fail, and its
answer is only trusted if a header row is then found (the caller checks).
"""

from __future__ import annotations

import codecs

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


def strict_decode(data: bytes) -> tuple[str, str] | None:
    """(text, encoding) from the expected encodings, or None."""
    if data.startswith(codecs.BOM_UTF8):
        try:
            return data[len(codecs.BOM_UTF8):].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError:
            return None
    for encoding in ("utf-8", "gb18030"):
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
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
