"""Writing tables to files people open: CSV for Excel, XLSX, and JSON lines.

The `write_*` functions stream rows into an open binary file, so an export of any size
runs in bounded memory; the `to_*` functions return the whole file as bytes.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from typing import IO, Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """A CSV cell a spreadsheet will not run as a formula (text starting = + - @ gets a quote)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def write_csv(out: IO[bytes], header: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """UTF-8 with a byte-order mark, so Excel shows Chinese correctly; written row by row."""
    text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
    text.write("\ufeff")
    writer = csv.writer(text)
    writer.writerow(header)
    starts = FORMULA_STARTS
    for row in rows:  # safe_cell, written out: this runs for every cell of a 100,000-row export
        writer.writerow([("'" + v if v.startswith(starts) else v) if isinstance(v, str) else ("" if v is None else v) for v in row])
    text.flush()
    text.detach()


def write_xlsx(out: IO[bytes], header: Sequence[str], rows: Iterable[Sequence[Any]], title: str = "export") -> None:
    """A write-only workbook: rows go to disk as they come, never all held at once. Text that
    starts like a formula is stored as a text cell, so Excel shows it as typed and never runs it."""
    from openpyxl import Workbook  # 60 ms to import: paid by exports, not by every start

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title[:31])
    sheet.append(list(header))
    for row in rows:
        sheet.append([text_cell(sheet, v) if isinstance(v, str) and v.startswith(FORMULA_STARTS) else v for v in row])
    book.save(out)


def text_cell(sheet: Any, value: str) -> Any:
    """A cell that holds `value` as text even when it starts with = + - @ (no quote added)."""
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(sheet, value=value)
    cell.data_type = "s"
    return cell


def write_jsonl(out: IO[bytes], records: Iterable[dict[str, Any]]) -> None:
    """One JSON object per line."""
    for record in records:
        out.write(json.dumps(record, ensure_ascii=False, default=str).encode() + b"\n")


def to_csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """The CSV file as bytes (see write_csv)."""
    out = io.BytesIO()
    write_csv(out, header, rows)
    return out.getvalue()


def to_xlsx(header: Sequence[str], rows: Iterable[Sequence[Any]], title: str = "export") -> bytes:
    """The XLSX file as bytes (see write_xlsx)."""
    out = io.BytesIO()
    write_xlsx(out, header, rows, title)
    return out.getvalue()


def to_jsonl(records: Iterable[dict[str, Any]]) -> bytes:
    """One JSON object per line, as bytes."""
    out = io.BytesIO()
    write_jsonl(out, records)
    return out.getvalue()
