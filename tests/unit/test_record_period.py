"""`aedex record --since/--until`: what a TIME may be, and the period it makes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from service.cli.failures import EXIT_USAGE, CliFailure
from service.cli.harness_cli import parse_time, period_of
from service.harness.capture import Period

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-22T08:00:00+01:00", datetime(2026, 11, 22, 7, 0, tzinfo=UTC)),
        ("2026-11-22T08:00:00Z", datetime(2026, 11, 22, 8, 0, tzinfo=UTC)),
        ("2026-11-22T08:00:00.250-05:00", datetime(2026, 11, 22, 13, 0, 0, 250_000, tzinfo=UTC)),
        ("2026-11-22T08:00", datetime(2026, 11, 22, 8, 0, tzinfo=UTC)),  # naive: UTC
        (" 2026-11-22 08:00:00 ", datetime(2026, 11, 22, 8, 0, tzinfo=UTC)),
        ("30s", NOW - timedelta(seconds=30)),
        ("90m", NOW - timedelta(minutes=90)),
        ("6h", NOW - timedelta(hours=6)),
        ("2d", NOW - timedelta(days=2)),
        ("2D", NOW - timedelta(days=2)),
        ("0m", NOW),
    ],
)
def test_a_time_is_an_iso_date_time_or_how_long_ago(text: str, expected: datetime) -> None:
    parsed = parse_time(text, now=NOW)
    assert parsed == expected
    assert parsed.tzinfo is UTC


def test_how_long_ago_counts_back_from_now_in_utc() -> None:
    local_now = NOW.astimezone(timezone(timedelta(hours=9)))
    assert parse_time("1h", now=local_now) == datetime(2026, 11, 22, 11, 0, tzinfo=UTC)
    before = datetime.now(UTC)
    assert before - timedelta(hours=1) <= parse_time("1h") <= datetime.now(UTC)


@pytest.mark.parametrize(
    "text", ["", "yesterday", "90", "-2d", "1.5h", "2 d", "6y", "2026-13-01T00:00:00", "12:00"]
)
def test_anything_else_is_refused_naming_the_accepted_forms(text: str) -> None:
    with pytest.raises(CliFailure) as refused:
        parse_time(text, option="--since", now=NOW)
    assert refused.value.exit_code == EXIT_USAGE
    message = str(refused.value)
    assert message.startswith(f"--since {text!r} is not a time: give an ISO 8601 date-time")
    assert "without an offset it is UTC" in message
    assert "(30s, 90m, 6h, 2d)" in message


def test_a_duration_beyond_the_calendar_is_refused_too() -> None:
    with pytest.raises(CliFailure, match="'99999999d' is too long ago"):
        parse_time("99999999d", option="--until", now=NOW)


def test_the_period_of_the_options() -> None:
    assert period_of(None, None) == Period()
    assert period_of(None, None, from_beginning=True) == Period()
    # Both relative ends count back from the same moment.
    assert period_of("2h", "1h", now=NOW) == Period(
        NOW - timedelta(hours=2), NOW - timedelta(hours=1)
    )
    assert period_of("2026-11-22T10:00:00Z", None, now=NOW).header() == {
        "since": "2026-11-22T10:00:00+00:00",
        "until": None,
    }


def test_a_period_that_cannot_hold_anything_is_refused() -> None:
    with pytest.raises(CliFailure, match="--since 1h is after --until 2h: the period is empty"):
        period_of("1h", "2h", now=NOW)
    with pytest.raises(CliFailure, match="--from-beginning and --since contradict"):
        period_of("1h", None, from_beginning=True, now=NOW)


def test_the_period_in_broker_milliseconds_keeps_its_ends_inside() -> None:
    start = datetime(2026, 11, 22, 8, 0, 0, 500, tzinfo=UTC)  # 0.5 ms past a millisecond
    period = Period(start, start)
    whole = int(datetime(2026, 11, 22, 8, 0, tzinfo=UTC).timestamp() * 1000)
    assert (period.since_ms, period.until_ms) == (whole + 1, whole)  # nothing fits in 0 ms
    exact = Period(
        datetime.fromtimestamp(whole / 1000, UTC), datetime.fromtimestamp(whole / 1000, UTC)
    )
    assert (exact.since_ms, exact.until_ms) == (whole, whole)
    assert (Period().since_ms, Period().until_ms) == (None, None)
