"""Re-timing a recorded stream: every declared time moves by one offset, intervals kept.

Yesterday's traffic replayed today would be judged late (LATE_DATA: received
more than 72 h after posting, or after ExpectedArrival) and would fall outside
today's windows. `aedex replay` therefore shifts every declared date-time of
every record by the same offset, chosen so the stream ends as the replay ends:
at the recorded pace each item keeps exactly the distance between its declared
times and its receipt; replayed faster, the earlier items look older by at most
the time saved, and nothing is ever dated in the future.

What is shifted is any ISO 8601 date-time with an offset (`2026-12-03T08:26:35+01:00`,
`...Z`, fractions kept) that stands alone between delimiters: XML element text,
a JSON string, a CSV field. That is the form DESIGN.md §3 requires of PreparedAt,
ExpectedArrival and PostingDateTime and of a manifest's departure, so a field added
later is covered too. A date-time without an offset is invalid there and is left
for the validator to report; so is one that does not parse (a 13th month).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

#: A date-time with an offset, not glued to other word characters.
_DATETIME = re.compile(
    rb"(?<![\w:.+-])(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)(Z|[+-]\d{2}:?\d{2})(?![\w:.])"
)


def stream_offset(last_ms: int, end: datetime) -> timedelta:
    """The shift, in whole seconds, that moves the recording's last record time to `end`.

    `end` is when the replay is paced to send its last record (its start, as fast as
    possible): that record's declared times then stand to its sending as they stood to
    its original time.
    """
    return timedelta(seconds=round(end.timestamp() - last_ms / 1000))


def shift_times(data: bytes, offset: timedelta) -> tuple[bytes, int]:
    """`data` with every stand-alone date-time moved by `offset`; and how many moved."""
    if not offset:
        return data, 0
    moved = 0

    def shifted(match: re.Match[bytes]) -> bytes:
        nonlocal moved
        text = match.group(1).decode()
        zone = match.group(2).decode()
        try:
            when = datetime.fromisoformat(text + ("+00:00" if zone == "Z" else zone))
            later = when + offset
        except (ValueError, OverflowError):
            return match.group(0)
        moved += 1
        return _format(later, text).encode() + match.group(2)

    return _DATETIME.sub(shifted, data), moved


def _format(when: datetime, like: str) -> str:
    """`when` in the local time of its own offset, written with the precision of `like`."""
    if len(like) == len("2026-12-03T08:26"):
        return when.strftime("%Y-%m-%dT%H:%M")
    if "." not in like:
        return when.strftime("%Y-%m-%dT%H:%M:%S")
    digits = len(like.rsplit(".", 1)[1])
    fraction = f"{when.microsecond:06d}"[:digits].ljust(digits, "0")
    return when.strftime("%Y-%m-%dT%H:%M:%S") + "." + fraction
