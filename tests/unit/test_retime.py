"""Re-timing: every stand-alone date-time moves by one offset, in its own zone and precision."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from service.harness.retime import shift_times, stream_offset

DAY = timedelta(days=1)


def test_xml_json_and_csv_times_move_and_keep_their_zone_and_precision() -> None:
    data = (
        b"<PreparedAt>2026-12-03T08:26:35+01:00</PreparedAt>"
        b"<PostingDateTime>2026-12-02T23:59:59.123Z</PostingDateTime>"
        b'{"departure": "2026-12-03T10:00-05:00"}'
        b"\nRX1,2026-12-03T10:00:00.123456+09:30,x"
    )
    shifted, moved = shift_times(data, DAY)
    assert moved == 4
    assert shifted == (
        b"<PreparedAt>2026-12-04T08:26:35+01:00</PreparedAt>"
        b"<PostingDateTime>2026-12-03T23:59:59.123Z</PostingDateTime>"
        b'{"departure": "2026-12-04T10:00-05:00"}'
        b"\nRX1,2026-12-04T10:00:00.123456+09:30,x"
    )


def test_what_is_not_a_stand_alone_date_time_with_an_offset_stays() -> None:
    data = (
        b"<A>2026-12-03T08:26:35</A>"  # no offset: the validator reports it
        b"<B>2026-13-03T08:26:35Z</B>"  # a 13th month
        b"<C>ID2026-12-03T08:26:35Z</C>"  # glued to an identifier
        b"<D>2026-12-03</D>"
    )
    assert shift_times(data, DAY) == (data, 0)


def test_no_offset_leaves_the_bytes_alone() -> None:
    data = b"<A>2026-12-03T08:26:35Z</A>"
    assert shift_times(data, timedelta(0)) == (data, 0)


def test_the_offset_moves_the_last_record_time_to_the_planned_end() -> None:
    last = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    end = datetime(2026, 12, 4, 3, 0, 30, 400_000, tzinfo=UTC)
    offset = stream_offset(int(last.timestamp() * 1000), end)
    assert offset == timedelta(days=2, hours=15, seconds=30)


@given(
    when=st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2090, 1, 1), timezones=st.just(UTC)
    ),
    seconds=st.integers(-(10**8), 10**8).filter(bool),
)
def test_intervals_are_kept(when: datetime, seconds: int) -> None:
    text = when.replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%S+00:00").encode()
    shifted, moved = shift_times(b"<T>" + text + b"</T>", timedelta(seconds=seconds))
    assert moved == 1
    got = datetime.fromisoformat(shifted[3:-4].decode())
    assert got - when.replace(microsecond=0) == timedelta(seconds=seconds)
