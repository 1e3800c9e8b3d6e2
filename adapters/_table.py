"""CSV tables with a fixed header: strict reading with row/column locations, and writing.

Rows are numbered as a spreadsheet shows them (the header is row 1), so an error
message points at the line a person will look at.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TypeVar

from adapters._values import clean, parse_datetime, parse_decimal, parse_int, text_problem
from adapters.errors import AdapterCode, AdapterError

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Row:
    """One data row: trimmed cells by column name, blank cells as None."""

    number: int
    cells: Mapping[str, str | None]

    def where(self, column: str) -> str:
        return f"row {self.number}, column {column}"

    def text(self, column: str) -> str | None:
        return self.cells[column]

    def decimal(self, column: str) -> Decimal | None:
        return self._parse(column, parse_decimal)

    def integer(self, column: str) -> int | None:
        return self._parse(column, parse_int)

    def datetime(self, column: str) -> datetime | None:
        return self._parse(column, parse_datetime)

    def _parse(self, column: str, parse: Callable[[str], T]) -> T | None:
        text = self.cells[column]
        if text is None:
            return None
        try:
            return parse(text)
        except ValueError as exc:
            raise AdapterError(AdapterCode.CSV_INVALID, str(exc), self.where(column)) from None

    def require_same(self, first: Row, columns: Iterable[str], group: str) -> None:
        """Columns repeated on every row of a group must agree; a conflict is never resolved
        silently by taking one of the values."""
        for column in columns:
            mine, theirs = self.cells[column], first.cells[column]
            if mine != theirs:
                raise AdapterError(
                    AdapterCode.CSV_INVALID,
                    f"{mine!r} differs from {theirs!r} on row {first.number}; "
                    f"this column must be the same on every row of {group}",
                    self.where(column),
                )


def group_rows(
    rows: Iterable[Row], *, key: str, shared: Sequence[str], noun: str, label: str | None = None
) -> dict[str, list[Row]]:
    """Rows grouped by their `key` cell, in order of first appearance.

    Every row of a group must agree on the `shared` columns (the item- or
    shipment-level cells repeated on each line); a blank key or a disagreement
    raises AdapterError (CSV_INVALID) naming the row and column. A group is
    called `label` (default `noun`) followed by its key in messages.
    """
    groups: dict[str, list[Row]] = {}
    for row in rows:
        value = row.text(key)
        if value is None:
            raise AdapterError(
                AdapterCode.CSV_INVALID,
                f"{key} is blank; every row must name the {noun} it belongs to",
                row.where(key),
            )
        group = groups.setdefault(value, [])
        if group:
            row.require_same(group[0], shared, f"{label or noun} {value}")
        group.append(row)
    return groups


def read_rows(text: str, *, required: Sequence[str], optional: Sequence[str] = ()) -> list[Row]:
    """Parse CSV `text` whose header must hold every `required` column and may hold `optional`
    ones. Unknown columns are refused (a misspelt column would otherwise lose its data);
    rows whose cells are all blank are skipped."""
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""), strict=True)
    try:
        header = next(reader, None)
        if header is None:
            raise AdapterError(AdapterCode.CSV_INVALID, "CSV is empty; expected a header row")
        columns = _check_header(header, required, optional)
        rows: list[Row] = []
        number = 1
        for record in reader:
            number += 1
            if all(not cell.strip() for cell in record):
                continue
            if len(record) != len(columns):
                raise AdapterError(
                    AdapterCode.CSV_INVALID,
                    f"row has {len(record)} cells; the header has {len(columns)} columns",
                    f"row {number}",
                )
            cells: dict[str, str | None] = dict.fromkeys(optional)
            for column, cell in zip(columns, record, strict=True):
                if (problem := text_problem(cell)) is not None:
                    raise AdapterError(
                        AdapterCode.CSV_INVALID, problem, f"row {number}, column {column}"
                    )
                cells[column] = clean(cell)
            rows.append(Row(number, cells))
    except csv.Error as exc:
        raise AdapterError(
            AdapterCode.CSV_INVALID, f"CSV is not readable: {exc}", f"row {reader.line_num}"
        ) from None
    if not rows:
        raise AdapterError(AdapterCode.CSV_INVALID, "CSV has a header but no data rows")
    return rows


def _check_header(header: list[str], required: Sequence[str], optional: Sequence[str]) -> list[str]:
    columns = [cell.strip().lower() for cell in header]
    for position, name in enumerate(columns, start=1):
        if not name:
            raise AdapterError(AdapterCode.CSV_INVALID, f"header cell {position} is empty", "row 1")
    duplicates = sorted({name for name in columns if columns.count(name) > 1})
    if duplicates:
        raise AdapterError(
            AdapterCode.CSV_INVALID, f"duplicate columns: {', '.join(duplicates)}", "row 1"
        )
    known = set(required) | set(optional)
    unknown = [name for name in columns if name not in known]
    if unknown:
        raise AdapterError(
            AdapterCode.CSV_INVALID,
            f"unknown columns: {', '.join(unknown)} (known: {', '.join([*required, *optional])})",
            "row 1",
        )
    missing = [name for name in required if name not in columns]
    if missing:
        raise AdapterError(
            AdapterCode.CSV_INVALID, f"missing required columns: {', '.join(missing)}", "row 1"
        )
    return columns


def write_rows(columns: Sequence[str], rows: Iterable[Mapping[str, str | None]]) -> str:
    """CSV text with a header row; None becomes an empty cell."""
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if row.get(c) is None else row[c] for c in columns])
    return out.getvalue()
