"""Reading an uploaded table as it streams: .xlsx (openpyxl read-only) or .csv (UTF-8 or GBK, detected).

Title rows above the header, merged header cells and blank rows are skipped: the header is the row among the
first ones that names the most known columns; a header cell left empty by a vertical merge takes the text
above it. Rows come with their number as Excel shows it.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from app.imports.fields import guess, header_key, norm
from app.imports.models import ImportKind

HEADER_SCAN_ROWS = 30
CHUNK = 1 << 20


class UnreadableFile(ValueError):
    """The file cannot be read as a table; the message is shown to the officer."""


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA (as Excel names columns)."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def file_format(data: bytes) -> str:
    if data.startswith(b"PK\x03\x04"):
        return "xlsx"
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise UnreadableFile("不支持旧版 .xls 文件，请在 Excel 中另存为 .xlsx 或 CSV 后再上传")
    if not data.strip():
        raise UnreadableFile("文件为空")
    if b"\x00" in data[:4096]:
        raise UnreadableFile("无法识别的文件：请上传 .xlsx 或 .csv 文件")
    return "csv"


def detect_encoding(data: bytes) -> str:
    """UTF-8 (with or without BOM) when every byte decodes as UTF-8, else GBK (read as GB18030, its superset)."""
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        for start in range(0, len(data), CHUNK):
            decoder.decode(data[start : start + CHUNK], final=start + CHUNK >= len(data))
    except UnicodeDecodeError:
        return "gb18030"
    return "utf-8"


def _csv_rows(data: bytes) -> tuple[Iterator[tuple[int, list[Any]]], dict[str, Any]]:
    encoding = detect_encoding(data)
    text = io.TextIOWrapper(io.BytesIO(data), encoding=encoding, newline="")
    sample = text.read(8192)
    text.seek(0)
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",\t;|")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(text, dialect)

    def rows() -> Iterator[tuple[int, list[Any]]]:
        # A CSV opened in Excel shows one record per row.
        for number, record in enumerate(reader, start=1):
            yield number, list(record)

    return rows(), {"format": "csv", "encoding": "GBK" if encoding == "gb18030" else "UTF-8"}


def _xlsx_rows(data: bytes) -> tuple[Iterator[tuple[int, list[Any]]], dict[str, Any]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # a damaged or encrypted workbook
        raise UnreadableFile("无法打开该 Excel 文件，请确认它是未加密的 .xlsx 文件") from exc
    sheet = workbook.worksheets[0]

    def rows() -> Iterator[tuple[int, list[Any]]]:
        # Read-only sheets fill the rows a file leaves out, so counting from 1 gives Excel's row numbers.
        try:
            for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
                yield number, list(values)
        finally:
            workbook.close()

    return rows(), {"format": "xlsx", "sheet": sheet.title, "rows_hint": sheet.max_row}


def is_blank(values: list[Any]) -> bool:
    return all(norm(v) == "" for v in values)


@dataclass
class Table:
    header_row: int
    headers: list[str]
    info: dict[str, Any]
    rows: Iterator[tuple[int, list[Any]]]

    @property
    def signature(self) -> str:
        keys = "|".join(header_key(h)[0] for h in self.headers)
        return hashlib.sha256(keys.encode()).hexdigest()[:32]


def _score(kind: ImportKind, headers: list[str]) -> int:
    return len({g for h in headers if (g := guess(kind, h))})


def open_table(data: bytes, kind: ImportKind) -> Table:
    """The header and a stream of the data rows after it (blank rows skipped)."""
    fmt = file_format(data)
    rows, info = _xlsx_rows(data) if fmt == "xlsx" else _csv_rows(data)
    head: list[tuple[int, list[Any]]] = []
    for item in rows:
        head.append(item)
        if len(head) >= HEADER_SCAN_ROWS:
            break
    if not head:
        raise UnreadableFile("文件中没有数据")
    best: tuple[int, int, int] | None = None  # (score, width, index)
    candidates: list[list[str]] = []
    for i, (_, values) in enumerate(head):
        above = head[i - 1][1] if i > 0 else []
        merged = [
            norm(v) or (norm(above[j]) if j < len(above) and i > 0 else "") for j, v in enumerate(values)
        ]
        own = [norm(v) for v in values]
        # A cell empty because its header is merged down from the row above takes that text.
        headers = merged if _score(kind, merged) > _score(kind, own) else own
        candidates.append(headers)
        width = sum(1 for h in own if h)
        key = (_score(kind, headers), width, -i)
        if width and (best is None or key > (best[0], best[1], -best[2])):
            best = (key[0], key[1], i)
    if best is None:
        raise UnreadableFile("文件中没有数据")
    index = best[2]
    headers = candidates[index]
    while headers and not headers[-1]:
        headers.pop()

    def data_rows() -> Iterator[tuple[int, list[Any]]]:
        for number, values in head[index + 1 :]:
            if not is_blank(values):
                yield number, values
        for number, values in rows:
            if not is_blank(values):
                yield number, values

    return Table(header_row=head[index][0], headers=headers, info=info, rows=data_rows())
