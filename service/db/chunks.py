"""Statements over many rows, cut so that none passes PostgreSQL's bind-parameter limit."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TypeVar

#: Rows or values per statement: with a dozen columns a row, far below PostgreSQL's
#: 32,767 bind parameters, whatever the batch size.
CHUNK = 1000

_T = TypeVar("_T")


def chunks(values: Sequence[_T], size: int = CHUNK) -> Iterator[Sequence[_T]]:
    """`values` in slices of at most `size`."""
    for start in range(0, len(values), size):
        yield values[start : start + size]
