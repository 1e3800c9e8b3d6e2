"""Times given on the command line: `aedex generate --base-time`, `aedex assess --received-at`.

Every rule judges event time, never the wall clock (DESIGN.md §3, Time), and
compares aware date-times; a time without a UTC offset would silently take
the machine's zone, so it is refused instead.
"""

from __future__ import annotations

from datetime import UTC, datetime

import typer

EXAMPLE = "2026-12-02T09:30:00+01:00"


def parse_time(text: str, option: str) -> datetime:
    """`text` as an aware datetime, or a usage error (exit 2) naming `option`."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise typer.BadParameter(
            f"{text!r} is not an ISO 8601 date-time, e.g. {EXAMPLE}", param_hint=option
        ) from None
    if value.tzinfo is None:
        raise typer.BadParameter(
            f"{text!r} has no UTC offset; add one, e.g. {EXAMPLE} or Z", param_hint=option
        )
    return value


def now() -> datetime:
    """The current time to the second: a base time someone can type again."""
    return datetime.now(UTC).replace(microsecond=0)
