"""Writing tables to files people open: CSV for Excel, XLSX, and JSON lines.

The `write_*` functions stream rows into an open binary file, so an export of any size
runs in bounded memory; the `to_*` functions return the whole file as bytes.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from itertools import chain
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
    """XlsxWriter in constant-memory mode: each row goes to disk as it comes, never all held at once.
    Every text is stored as text, so text starting like a formula shows as typed and never runs;
    control characters a spreadsheet cannot hold are escaped, not refused."""
    import xlsxwriter  # paid by exports, not by every start

    book = xlsxwriter.Workbook(out, {"constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False})
    sheet = book.add_worksheet(title[:31])
    text, number, boolean = sheet.write_string, sheet.write_number, sheet.write_boolean
    for r, row in enumerate(chain((header,), rows)):  # each cell typed here: write_row's dispatch was a third of the time
        for c, value in enumerate(row):
            if isinstance(value, str):
                if value:  # an empty text is an empty cell, as a spreadsheet reads it
                    text(r, c, value)
            elif isinstance(value, bool):
                boolean(r, c, value)
            elif isinstance(value, int | float):
                number(r, c, value)
            elif value is not None:
                text(r, c, str(value))
    book.close()


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
