"""Reading a CSV history file a line at a time, with every way it can be broken as one line.

Shared by the Home Assistant and the spreadsheet readers: ``csv.reader`` over the open
file (never the whole file in memory), a byte-order mark from Excel dropped, blank rows
passed over, and rows with another number of fields than the header refused.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

from tankeco.errors import UserError


def _rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh)
            for row in reader:
                if row and any(cell.strip() for cell in row):
                    yield reader.line_num, row
    except UnicodeDecodeError as exc:
        raise UserError(f"{path.name}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except csv.Error as exc:
        raise UserError(f"{path.name}: not a readable CSV file ({exc})") from None
    except OSError as exc:
        raise UserError(f"{path}: cannot read ({exc.strerror})") from None


def open_rows(path: Path, expected: str) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    """The header row, and (line number, fields) of each following non-blank row.

    ``expected`` names the header the format wants, for the message on an empty file.
    """
    rows = _rows(path)
    first = next(rows, None)
    if first is None:
        raise UserError(f"{path.name}: empty file; expected a header row such as {expected}")
    header = first[1]

    def checked() -> Iterator[tuple[int, list[str]]]:
        for line, row in rows:
            if len(row) != len(header):
                raise UserError(
                    f"{path.name} line {line}: {len(row)} fields, the header has {len(header)}"
                )
            yield line, row

    return header, checked()
