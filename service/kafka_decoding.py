"""Record batches that cannot be decoded become one marked record, so a partition moves on.

aiokafka decodes a fetched batch (CRC check, decompression, record framing)
while handing records out; when that fails, `getmany` raises, the consumer's
position stays put, and the next call fetches and fails on the same batch for
ever: one bad batch on `aed.inbound` halted every later message of its
partition. `install()` wraps the fetcher's record reader so that a batch that
fails to decode yields, in its place, a single record:

- offset: the batch's first offset not yet handed out;
- value: the raw bytes of the batch as the broker sent them (for the dead-letter
  topic, where an operator can inspect them with other tools);
- header `UNDECODABLE_HEADER`: why it failed.

The consumer then continues after the batch (the batch header still says
where it ends). The stage runner dead-letters such records without handling
them. Every compression codec a producer may use (gzip, snappy, lz4, zstd) is
decoded (cramjam, aiokafka's codec library); this is for what still fails:
corrupt data, an unknown codec, a CRC mismatch.

A compressed batch is also checked, before aiokafka decompresses it, against
`max_decompressed_bytes` (set by `install`): 6 KB of zstd can expand to 200 MB,
and one such record would otherwise kill its worker for lack of memory on every
attempt. The check decompresses into a fixed buffer (lz4, zstd), reads the
declared block sizes (snappy) or decompresses with a bounded output (gzip), so
it costs bounded memory whatever the batch claims.

This reaches into aiokafka's fetcher (`aiokafka.consumer.fetcher.MemoryRecords`);
the version range in pyproject.toml is the one it was written and tested for,
and tests/component/test_kafka_decoding.py fails if aiokafka changes under it.
"""

from __future__ import annotations

import struct
import time
import zlib
from collections.abc import Iterator
from typing import Any

import aiokafka.consumer.fetcher as _fetcher
import cramjam

#: Header of a record that stands for an undecodable batch; its value is the reason.
UNDECODABLE_HEADER = "aedex.undecodable"

_REAL_MEMORY_RECORDS: Any = _fetcher.MemoryRecords
#: Kafka log framing: base offset (int64), batch length (int32), then the batch.
_LOG_OVERHEAD = 12
_MAGIC_AT = 16
_LAST_OFFSET_DELTA_AT = 23
_ATTRIBUTES_AT = 21
#: A v2 batch's header, before its (possibly compressed) records.
_V2_HEADER = 61
_XERIAL = b"\x82SNAPPY\x00"

#: Largest decompressed batch a consumer accepts (`install` sets it from the settings).
_limits = {"max_decompressed_bytes": 64 * 1024 * 1024}
#: One reusable output buffer for the bounded lz4/zstd check (allocated on first use).
_scratch: dict[int, bytearray] = {}


def _decompressed_too_large(raw: bytes) -> str | None:
    """Why a compressed v2 batch would decompress beyond the limit, or None."""
    if len(raw) <= _V2_HEADER or raw[_MAGIC_AT] < 2:
        return None
    codec = struct.unpack_from(">h", raw, _ATTRIBUTES_AT)[0] & 0x07
    if codec == 0:
        return None
    limit = _limits["max_decompressed_bytes"]
    payload = raw[_V2_HEADER:]
    try:
        size = _bounded_size(codec, payload, limit)
    except Exception:  # noqa: BLE001 - corrupt data: aiokafka's own decoding will say so
        return None
    if size is not None and size > limit:
        return (
            f"DecompressionBomb: the batch decompresses to more than {limit:,} bytes "
            f"({len(payload):,} compressed)"
        )
    return None


def _bounded_size(codec: int, payload: bytes, limit: int) -> int | None:
    """The decompressed size, or any number over `limit` once it is known to be over."""
    if codec == 1:  # gzip, possibly several members
        total, data = 0, payload
        while data:
            inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
            total += len(inflater.decompress(data, limit + 1 - total))
            if total > limit or not inflater.eof:
                return total if total > limit else None
            data = inflater.unused_data
        return total
    if codec == 2:  # snappy, xerial-framed (Java, librdkafka) or raw
        if not payload.startswith(_XERIAL):
            return int(cramjam.snappy.decompress_raw_len(payload))
        total, pos = 0, 16
        while pos + 4 <= len(payload):
            length = int.from_bytes(payload[pos : pos + 4], "big")
            total += int(cramjam.snappy.decompress_raw_len(payload[pos + 4 : pos + 4 + length]))
            pos += 4 + length
        return total
    if codec in (3, 4):  # lz4 frame, zstd: decompress into a buffer one byte over the limit
        buffer = _scratch.get(limit)
        if buffer is None:
            _scratch.clear()
            buffer = _scratch[limit] = bytearray(limit + 1)
        module = cramjam.lz4 if codec == 3 else cramjam.zstd
        try:
            return int(module.decompress_into(payload, buffer))
        except cramjam.DecompressionError as error:
            if "whole buffer" in str(error):
                return limit + 1
            raise
    return None


class _Marker:
    """What aiokafka needs of a record, standing for a batch that could not be decoded."""

    __slots__ = ("offset", "timestamp", "value", "headers")

    timestamp_type = 0
    key = None
    checksum = None

    def __init__(self, offset: int, raw: bytes, reason: str) -> None:
        self.offset = offset
        self.timestamp = int(time.time() * 1000)
        self.value = raw
        self.headers = [(UNDECODABLE_HEADER, reason.encode("utf-8", "replace")[:1000])]


def _reason(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


class _GuardedBatch:
    """A real batch whose decoding errors become one `_Marker` instead of an exception."""

    def __init__(self, batch: Any, raw: bytes) -> None:
        self._batch = batch
        self._raw = raw
        self._broken: str | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._batch, name)

    def validate_crc(self) -> bool:
        if not self._batch.validate_crc():
            self._broken = "CorruptRecordException: CRC mismatch in the record batch"
        else:
            self._broken = _decompressed_too_large(self._raw)
        return True

    def __next__(self) -> Any:
        return next(self._batch)

    def __iter__(self) -> Iterator[Any]:
        base: int = self._batch.base_offset
        if self._broken is not None:
            yield _Marker(base, self._raw, self._broken)
            return
        last: int | None = None
        try:
            for record in self._batch:
                last = record.offset
                yield record
        except Exception as error:  # noqa: BLE001 - any decoding failure: mark and move on
            yield _Marker(base if last is None else last + 1, self._raw, _reason(error))


class _BrokenBatch:
    """A batch aiokafka could not even frame: one marker, then the batch's end offset."""

    is_control_batch = False
    is_transactional = False
    producer_id = None

    def __init__(self, raw: bytes, reason: str) -> None:
        self._raw = raw
        self._reason = reason
        self.base_offset: int = struct.unpack_from(">q", raw, 0)[0] if len(raw) >= 8 else 0
        last_delta = 0
        if len(raw) >= _LAST_OFFSET_DELTA_AT + 4 and raw[_MAGIC_AT] >= 2:
            last_delta = struct.unpack_from(">i", raw, _LAST_OFFSET_DELTA_AT)[0]
        self.next_offset = self.base_offset + max(0, last_delta) + 1

    def validate_crc(self) -> bool:
        return True

    def __iter__(self) -> Iterator[_Marker]:
        yield _Marker(self.base_offset, self._raw, self._reason)


class GuardedMemoryRecords:
    """aiokafka's MemoryRecords over one fetch response, with every batch guarded."""

    def __init__(self, data: bytes) -> None:
        self._data = bytes(data)
        self._records = _REAL_MEMORY_RECORDS(self._data)
        self._pos = 0
        self._dead = False

    def size_in_bytes(self) -> int:
        return int(self._records.size_in_bytes())

    def has_next(self) -> bool:
        return not self._dead and bool(self._records.has_next())

    def _next_raw(self) -> bytes:
        """The bytes of the batch `next_batch` is about to return (the same framing)."""
        start = self._pos
        if len(self._data) - start < _LOG_OVERHEAD:
            return b""
        length = struct.unpack_from(">i", self._data, start + 8)[0]
        self._pos = start + _LOG_OVERHEAD + max(0, length)
        return self._data[start : self._pos]

    def next_batch(self) -> Any:
        raw = self._next_raw()
        try:
            batch = self._records.next_batch()
        except Exception as error:  # noqa: BLE001 - the reader cannot go past this batch
            self._dead = True  # the rest of this fetch is dropped; the next fetch resumes
            return _BrokenBatch(raw, _reason(error))
        if batch is None:
            return None
        return _GuardedBatch(batch, raw)


def install(*, max_decompressed_bytes: int | None = None) -> None:
    """Guard every consumer of this process (idempotent); a batch that decompresses to more
    than `max_decompressed_bytes` is treated as undecodable."""
    if max_decompressed_bytes is not None:
        _limits["max_decompressed_bytes"] = max_decompressed_bytes
    _fetcher.MemoryRecords = GuardedMemoryRecords


def undecodable_reason(headers: Any) -> str | None:
    """The reason, when a consumed record stands for an undecodable batch."""
    for name, value in headers or ():
        if name == UNDECODABLE_HEADER:
            return bytes(value).decode("utf-8", "replace")
    return None
