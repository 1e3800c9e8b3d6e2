"""The recording file: what is written reads back the same, and damage is named, not hidden."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.harness import recording
from service.harness.recording import Recorded, Recording, RecordingError, RecordingWriter

_blobs = st.one_of(st.none(), st.binary(max_size=300))
_records = st.builds(
    Recorded,
    timestamp_ms=st.integers(0, 2**62),
    partition=st.integers(0, 2**31 - 1),
    offset=st.integers(0, 2**62),
    key=_blobs,
    value=_blobs,
    headers=st.lists(st.tuples(st.text(max_size=20), _blobs), max_size=5).map(tuple),
)
HEADER = {"topic": "aed.inbound", "aedex": "test"}


def _written(records: list[Recorded], chunk_bytes: int = recording.CHUNK_BYTES) -> bytes:
    out = io.BytesIO()
    with RecordingWriter(out, HEADER, chunk_bytes=chunk_bytes) as writer:
        for record in records:
            writer.write(record)
    return out.getvalue()


@settings(max_examples=60, deadline=None)
@given(st.lists(_records, max_size=40), st.sampled_from([recording.CHUNK_BYTES, 64]))
def test_records_read_back_exactly_in_order_whatever_the_chunking(
    records: list[Recorded], chunk_bytes: int
) -> None:
    opened = Recording(io.BytesIO(_written(records, chunk_bytes)))
    assert opened.header == {"format": "aedex-recording", "version": 1, **HEADER}
    assert list(opened) == records
    assert opened.complete


def test_the_header_is_readable_without_decompressing(tmp_path: Path) -> None:
    path = tmp_path / "stream.aedexrec"
    recording.write_recording(path, HEADER, [Recorded(1, 0, 0, b"k", b"<ITMATT/>")])
    assert b'"topic":"aed.inbound"' in path.read_bytes()[:200]


def test_a_file_cut_after_a_whole_chunk_reads_its_chunks_and_says_it_is_incomplete() -> None:
    records = [Recorded(n, 0, n, None, b"x" * 50) for n in range(20)]
    data = _written(records, chunk_bytes=200)
    opened = Recording(io.BytesIO(data[:-4]))  # the end mark is gone
    assert list(opened) == records
    assert not opened.complete


@pytest.mark.parametrize(
    ("damage", "says"),
    [
        (lambda d: b"NOTAREC!" + d[8:], "not an aedex recording"),
        (lambda d: d[:8] + b"\x02" + d[9:], "format version"),
        (lambda d: d[:11], "ends before its header"),
        (lambda d: d[: len(d) - 20], "ends inside its chunk 1"),
        (lambda d: d[:-30] + b"\xff" * 26 + d[-4:], "chunk 1"),
    ],
)
def test_damage_is_reported_with_where_it_is(damage: object, says: str) -> None:
    data = _written([Recorded(n, 0, n, b"k", b"v" * 40) for n in range(30)])
    with pytest.raises(RecordingError, match=says):
        list(Recording(io.BytesIO(damage(data))))  # type: ignore[operator]
