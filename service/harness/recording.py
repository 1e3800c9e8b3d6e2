"""The recording file: a captured stream of Kafka records, compact and self-describing.

`aedex record` writes it and `aedex replay` reads it (issue 16). Layout, all integers
big-endian:

    magic      8 bytes  b"AEDEXREC"
    version    1 byte   1
    header     u32 length, then that many bytes of UTF-8 JSON (uncompressed, so
               `head -c 300 FILE` shows the topic and the aedex version)
    chunks     each: u32 length n > 0, then an n-byte zstd frame holding whole records
    end        u32 0: a file without it was cut short (its whole chunks still read)

A record inside a chunk:

    timestamp  i64 milliseconds since the epoch (the broker's)
    partition  i32
    offset     i64
    key        i32 length (-1: none), then the bytes
    value      i32 length (-1: none), then the bytes
    headers    u16 count, then each: u16 name length, UTF-8 name, i32 value length
               (-1: none), then the bytes

Chunks are independent zstd frames of about `CHUNK_BYTES` of records, so reading
holds one chunk in memory however long the stream, and a damaged chunk is reported
with its position instead of silently ending the stream.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import cramjam
import orjson

MAGIC = b"AEDEXREC"
VERSION = 1
#: Uncompressed bytes of records per chunk.
CHUNK_BYTES = 1024 * 1024
#: Refuse a header or chunk length beyond this: a damaged file, not a huge stream.
MAX_FRAME_BYTES = 256 * 1024 * 1024

_U32 = struct.Struct(">I")
_FIXED = struct.Struct(">qiq")  # timestamp, partition, offset
_I32 = struct.Struct(">i")
_U16 = struct.Struct(">H")


class RecordingError(ValueError):
    """The file is not a recording, or is damaged: the message says where."""


@dataclass(frozen=True, slots=True)
class Recorded:
    """One captured record, as the broker gave it."""

    timestamp_ms: int
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes | None], ...] = ()


@dataclass
class RecordingWriter:
    """Append records to a new recording; `close` writes the end mark (use `with`)."""

    file: BinaryIO
    header: dict[str, Any]
    level: int = 3
    #: Uncompressed bytes of records per chunk (one zstd frame).
    chunk_bytes: int = CHUNK_BYTES
    count: int = 0
    _pending: list[bytes] = field(default_factory=list)
    _pending_bytes: int = 0

    def __post_init__(self) -> None:
        encoded = orjson.dumps({"format": "aedex-recording", "version": VERSION, **self.header})
        self.file.write(MAGIC + bytes([VERSION]) + _U32.pack(len(encoded)) + encoded)

    def write(self, record: Recorded) -> None:
        encoded = _encode(record)
        self._pending.append(encoded)
        self._pending_bytes += len(encoded)
        self.count += 1
        if self._pending_bytes >= self.chunk_bytes:
            self._flush()

    def close(self) -> None:
        self._flush()
        self.file.write(_U32.pack(0))
        self.file.flush()

    def __enter__(self) -> RecordingWriter:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _flush(self) -> None:
        if not self._pending:
            return
        frame = bytes(cramjam.zstd.compress(b"".join(self._pending), level=self.level))
        self.file.write(_U32.pack(len(frame)) + frame)
        self._pending, self._pending_bytes = [], 0


def write_recording(path: Path, header: dict[str, Any], records: Sequence[Recorded]) -> int:
    """Write `records` to a new file at `path`; returns how many were written."""
    with path.open("wb") as file, RecordingWriter(file, header) as writer:
        for record in records:
            writer.write(record)
        return writer.count


@dataclass
class Recording:
    """A recording opened for reading: its header, then its records in order."""

    file: BinaryIO
    header: dict[str, Any] = field(init=False)
    #: False until the end mark was read: the file was cut short after its last chunk.
    complete: bool = field(init=False, default=False)

    def __post_init__(self) -> None:
        start = self.file.read(len(MAGIC) + 1)
        if start[: len(MAGIC)] != MAGIC:
            raise RecordingError("not an aedex recording (no AEDEXREC mark at the start)")
        if start[len(MAGIC) :] != bytes([VERSION]):
            raise RecordingError(f"recording format version {start[len(MAGIC) :]!r}; this reads 1")
        frame = self._frame("header")
        assert frame is not None  # only a chunk may be the end mark
        try:
            header = orjson.loads(frame)
        except orjson.JSONDecodeError as error:
            raise RecordingError(f"the header is not JSON: {error}") from None
        if not isinstance(header, dict):
            raise RecordingError("the header is not a JSON object")
        self.header = header

    def __iter__(self) -> Iterator[Recorded]:
        chunk = 0
        while True:
            at = self.file.tell()
            frame = self._frame(f"chunk {chunk + 1}", end_ok=True)
            if frame is None:
                return
            try:
                data = bytes(cramjam.zstd.decompress(frame))
            except cramjam.DecompressionError as error:
                raise RecordingError(
                    f"chunk {chunk + 1} at byte {at} is damaged: {error}"
                ) from None
            yield from _decode(data, chunk + 1)
            chunk += 1

    def _frame(self, what: str, *, end_ok: bool = False) -> bytes | None:
        size = self.file.read(_U32.size)
        if len(size) < _U32.size:
            if end_ok:
                return None  # cut short after a whole chunk: `complete` stays False
            raise RecordingError(f"the file ends before its {what}")
        (length,) = _U32.unpack(size)
        if length == 0 and end_ok:
            self.complete = True
            return None
        if length > MAX_FRAME_BYTES:
            raise RecordingError(f"{what} claims {length:,} bytes: the file is damaged")
        data = self.file.read(length)
        if len(data) < length:
            raise RecordingError(
                f"the file ends inside its {what} ({len(data):,} of {length:,} bytes)"
            )
        return data


def _blob(value: bytes | None) -> bytes:
    return _I32.pack(-1) if value is None else _I32.pack(len(value)) + value


def _encode(record: Recorded) -> bytes:
    parts = [_FIXED.pack(record.timestamp_ms, record.partition, record.offset)]
    parts += [_blob(record.key), _blob(record.value), _U16.pack(len(record.headers))]
    for name, value in record.headers:
        encoded = name.encode()
        parts += [_U16.pack(len(encoded)), encoded, _blob(value)]
    return b"".join(parts)


def _decode(data: bytes, chunk: int) -> Iterator[Recorded]:
    view = memoryview(data)
    at = 0

    def blob() -> bytes | None:
        nonlocal at
        (length,) = _I32.unpack_from(view, at)
        at += _I32.size
        if length < 0:
            return None
        if at + length > len(view):
            raise struct.error("blob beyond the chunk")
        value = bytes(view[at : at + length])
        at += length
        return value

    try:
        while at < len(view):
            timestamp, partition, offset = _FIXED.unpack_from(view, at)
            at += _FIXED.size
            key, value = blob(), blob()
            (count,) = _U16.unpack_from(view, at)
            at += _U16.size
            headers: list[tuple[str, bytes | None]] = []
            for _ in range(count):
                (size,) = _U16.unpack_from(view, at)
                at += _U16.size
                name = bytes(view[at : at + size]).decode()
                at += size
                headers.append((name, blob()))
            yield Recorded(timestamp, partition, offset, key, value, tuple(headers))
    except (struct.error, UnicodeDecodeError) as error:
        raise RecordingError(
            f"chunk {chunk} is damaged at byte {at} of its records: {error}"
        ) from None
