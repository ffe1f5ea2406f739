"""Writing tables to files people open: CSV for Excel, XLSX, and JSON lines."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from typing import Any

from openpyxl import Workbook

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """A cell a spreadsheet will not run as a formula (text starting = + - @ gets a quote)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def to_csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """UTF-8 with a byte-order mark, so Excel shows Chinese correctly."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        writer.writerow([safe_cell("" if v is None else v) for v in row])
    return "\ufeff".encode() + out.getvalue().encode("utf-8")


def to_xlsx(header: Sequence[str], rows: Iterable[Sequence[Any]], title: str = "export") -> bytes:
    """A write-only workbook, streamed row by row."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title[:31])
    sheet.append(list(header))
    for row in rows:
        sheet.append([safe_cell(v) for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def to_jsonl(records: Iterable[dict[str, Any]]) -> bytes:
    """One JSON object per line."""
    return b"".join(json.dumps(r, ensure_ascii=False, default=str).encode() + b"\n" for r in records)
