"""Write the seed corpus: `python -m tests.fuzz.seeds` (re)writes every seed-* and hostile-*
file under tests/fuzz/corpus/TARGET/.

Valid seeds come from the project's generator (1-2 items each), so mutation starts
from real messages and reaches item-level code; hostile seeds are hand-made attacks
and breakage that each entry point must refuse cleanly. Inputs the fuzzer found
(crash-*, timeout-*, oom-*) are never touched.
"""

from __future__ import annotations

import codecs
import csv
import io
import random
import re
from datetime import UTC, datetime
from pathlib import Path

from lxml import etree

from adapters.generator import GeneratorOptions, generate
from adapters.generator.hostile import billion_laughs, external_entity, latin1
from messages.codec import encode_cusrsp
from messages.models import CusrspHeader, CusrspMessage, Response, ResponseError

CORPUS = Path(__file__).resolve().parent / "corpus"
_SEEDED = ("seed-", "hostile-")
#: The generator's hostile makers take an rng; the ones used here do not draw from it.
_RNG = random.Random(0)


def main() -> None:
    """Replace the seed and hostile files of every target; report sizes."""
    files = {
        "xml_entry": xml_entry_seeds(),
        "envelope": envelope_seeds(),
        "decode_itmatt": itmatt_seeds(),
        "decode_cusitm": cusitm_seeds(),
        "decode_cusrsp": cusrsp_seeds(),
        "check_message": check_seeds(),
        "manifest_json": manifest_json_seeds(),
        "manifest_csv": csv_seeds(
            _generated()["manifest-csv"][0], _generated(2)["manifest-csv"][0]
        ),
        "cn23_csv": csv_seeds(_generated()["cn23-csv"][0], _generated(2)["cn23-csv"][0]),
    }
    total = 0
    for target, seeds in files.items():
        folder = CORPUS / target
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.iterdir():
            if old.name.startswith(_SEEDED):
                old.unlink()
        for name, data in seeds.items():
            (folder / name).write_bytes(data)
        size = sum(len(data) for data in seeds.values())
        total += size
        print(f"{target}: {len(seeds)} seeds, {size:,} bytes")
    print(f"total: {total:,} bytes")


# ---------------------------------------------------------------- generated messages

_CACHE: dict[int, dict[str, list[bytes]]] = {}


def _generated(per_message: int = 1) -> dict[str, list[bytes]]:
    """Two small files of each kind the generator writes (defects included), cached; the
    generator's own hostile files are too big here, so `xml_refusals` makes small ones."""
    if per_message not in _CACHE:
        found: dict[str, list[bytes]] = _CACHE.setdefault(per_message, {})
        options = GeneratorOptions(
            items=24 * per_message,
            seed=11,
            defects=True,
            defect_rate=0.25,
            items_per_message=per_message,
        )
        for file in generate(options):
            files = found.setdefault(file.kind, [])
            if len(files) < 2 and len(file.data) < 4096:
                files.append(file.data)
    return _CACHE[per_message]


def _itmatt(version: str = "1.2", index: int = 0, per_message: int = 1) -> bytes:
    """A generated ITMATT of `version` with `per_message` items."""
    return _generated(per_message)[f"itmatt-{version}"][index]


def _cusitm(index: int = 0, per_message: int = 1) -> bytes:
    """A generated CUSITM with `per_message` items."""
    return _generated(per_message)["cusitm"][index]


#: The smallest ITMATT: what a refusal on encoding grounds needs, at a quarter of the bytes.
_TINY = (
    b"<?xml version='1.0' encoding='UTF-8'?>\n"
    b'<ITMATT xmlns="urn:aedex:msg:itmatt:1" version="1.2"><Header/><Item/></ITMATT>'
)


def _cusrsp() -> bytes:
    """The generator writes no CUSRSP: two responses as the respond stage writes them."""
    at = datetime(2026, 11, 20, 12, 30, tzinfo=UTC)
    return encode_cusrsp(
        CusrspMessage(
            header=CusrspHeader(
                message_id="R0123456789abcdef0123456789abcd",
                sender_authority="DE000001",
                recipient_operator="CNA",
                prepared_at=at,
            ),
            responses=[
                Response(
                    item_id="RR123456785CN",
                    in_reply_to="CNA-20261120-000001",
                    decision="RELEASE",
                    axis="FISCAL",
                    processing_indicator=4,
                    decided_at=at,
                    reasons=["no customs interest"],
                ),
                Response(
                    item_id="RB123456785GB",
                    in_reply_to="CNA-20261120-000001",
                    decision="REJECT",
                    axis="FISCAL",
                    decided_at=at,
                    errors=[
                        ResponseError(
                            code="HS_FORMAT",
                            path="Item[2]/ContentPiece[1]/HSCode",
                            text="HS code 61091 is not 6 to 10 digits",
                        )
                    ],
                ),
            ],
        )
    )


# ---------------------------------------------------------------- XML variants

_DECLARATION = re.compile(rb"^<\?xml[^>]*\?>\n?")


def _after_declaration(data: bytes, insert: bytes) -> bytes:
    """`insert` where a DOCTYPE goes: right after the XML declaration."""
    end = _DECLARATION.match(data)
    assert end is not None, data[:60]
    return data[: end.end()] + insert + b"\n" + data[end.end() :]


def _leaf(data: bytes, element: str, text: bytes) -> bytes:
    """`data` with the text of the first `<element>` replaced (attributes kept)."""
    pattern = re.compile(rb"(<" + element.encode() + rb"\b[^>]*>)[^<]*(</)")
    changed, count = pattern.subn(lambda m: m.group(1) + text + m.group(2), data, count=1)
    assert count == 1, element
    return changed


def _in_item(data: bytes, markup: bytes) -> bytes:
    """`markup` appended inside the first `<Item>`, where decoding looks."""
    end = data.index(b"</Item>")
    return data[:end] + markup + data[end:]


def _pretty_crlf(data: bytes) -> bytes:
    """Indented with CRLF line ends: whitespace text and tails everywhere."""
    root = etree.fromstring(data)
    text = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return bytes(text).replace(b"\n", b"\r\n")


def _utf16(data: bytes, codec: str, bom: bytes = b"") -> bytes:
    """`data` re-encoded and declared in another Unicode encoding (aedex takes UTF-8 only)."""
    text = data.decode("utf-8").replace("encoding='UTF-8'", "encoding='UTF-16'", 1)
    return bom + text.encode(codec)


def _nest(depth: int) -> bytes:
    """Elements nested `depth` deep."""
    return b"<N>" * depth + b"</N>" * depth


def xml_refusals(base: bytes) -> dict[str, bytes]:
    """Message-level attacks and breakage: each must come back as MessageRejected."""
    return {
        "hostile-doctype.xml": _after_declaration(base, b"<!DOCTYPE ITMATT>"),
        "hostile-doctype-lowercase.xml": _after_declaration(base, b"<!doctype ITMATT>"),
        "hostile-xxe.xml": external_entity(base, _RNG),
        "hostile-billion-laughs.xml": billion_laughs(base, _RNG),
        "hostile-external-dtd.xml": _after_declaration(
            base, b'<!DOCTYPE ITMATT SYSTEM "http://127.0.0.1:9/evil.dtd">'
        ),
        "hostile-parameter-entity.xml": _after_declaration(
            base,
            b'<!DOCTYPE ITMATT [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]>',
        ),
        "hostile-entity-no-doctype.xml": _in_item(base, b"<Comments><!ENTITY x 'y'></Comments>"),
        "hostile-undeclared-entity.xml": _leaf(base, "Description", b"&nbsp;shirt"),
        "hostile-processing-instruction.xml": _after_declaration(
            base, b'<?xml-stylesheet href="http://127.0.0.1:9/x.xsl"?>'
        ),
        "hostile-pi-after-root.xml": base + b"<?pi trailing?>",
        "hostile-xinclude.xml": _in_item(
            base,
            b'<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="/etc/passwd"'
            b' parse="text"/>',
        ),
        "hostile-deep-300.xml": _in_item(base, _nest(300)),
        "hostile-deep-40.xml": _in_item(base, _nest(40)),
        "hostile-utf16le-bom.xml": _utf16(_TINY, "utf-16-le", codecs.BOM_UTF16_LE),
        "hostile-utf16be.xml": _utf16(_TINY, "utf-16-be"),
        "hostile-utf32.xml": _utf16(_TINY, "utf-32"),
        "hostile-latin1.xml": latin1(base, _RNG),
        "hostile-encoding-ascii.xml": base.replace(b"encoding='UTF-8'", b"encoding='US-ASCII'"),
        "hostile-truncated.xml": base[: len(base) // 2],
        "hostile-empty.xml": b"",
        "hostile-declaration-only.xml": b"<?xml version='1.0' encoding='UTF-8'?>\n",
        "hostile-nul-byte.xml": _leaf(base, "Description", b"T-shirt\x00"),
        "hostile-invalid-utf8.xml": _leaf(base, "Description", b"T-shirt \xff\xfe"),
        "hostile-two-roots.xml": base + b"<ITMATT/>",
        "hostile-tag-mismatch-depth.xml": b"<depth></huge>",
    }


def xml_entry_seeds() -> dict[str, bytes]:
    """Valid messages of all three kinds, markup variety, and every refusal at small limits."""
    base = _itmatt()
    return {
        "seed-itmatt-1.2.xml": base,
        "seed-cusitm.xml": _cusitm(),
        "seed-cusrsp.xml": _cusrsp(),
        "seed-crlf-pretty.xml": _pretty_crlf(base),
        "seed-bom.xml": codecs.BOM_UTF8 + base,
        "seed-cdata-comment.xml": _leaf(base, "Description", b"<![CDATA[a<b]]><!-- c -->d"),
        "seed-char-refs.xml": _leaf(base, "Description", b"&#x1F600;&#233;&amp;&lt;&#10;"),
        "seed-prefixed.xml": b"<a:ITMATT xmlns:a='urn:aedex:msg:itmatt:1' version='1.2'>"
        b"<a:Header/><a:Item/><a:Item/></a:ITMATT>",
        "hostile-five-items.xml": b"<ITMATT xmlns='urn:aedex:msg:itmatt:1' version='1.2'>"
        + b"<Item/>" * 5
        + b"</ITMATT>",
        "hostile-long-text.xml": _leaf(base, "Description", b"x" * 300),
        "hostile-deep-9.xml": b"<r>" + _nest(8) + b"</r>",
        **xml_refusals(base),
    }


def envelope_seeds() -> dict[str, bytes]:
    """What intake reads: roots, versions and header fields, right and wrong."""
    base = _itmatt()
    return {
        "seed-itmatt-1.2.xml": base,
        "seed-itmatt-1.1.xml": _itmatt("1.1"),
        "seed-cusitm.xml": _cusitm(),
        "hostile-cusrsp-root.xml": _cusrsp(),
        "hostile-wrong-namespace.xml": base.replace(b"urn:aedex:msg:itmatt:1", b"urn:other", 1),
        "hostile-no-version.xml": base.replace(b' version="1.2"', b"", 1),
        "hostile-version-2.xml": base.replace(b'version="1.2"', b'version="2.0"', 1),
        "hostile-no-header.xml": re.sub(rb"<Header>.*?</Header>", b"", base, count=1),
        "hostile-empty-ids.xml": _leaf(_leaf(base, "MessageId", b"  "), "SenderOperator", b""),
        "hostile-truncated.xml": base[: len(base) * 2 // 3],
    }


def leaf_variants(base: bytes) -> dict[str, bytes]:
    """Awkward leaf values: the decoder must turn them into None or a value, never raise."""
    cases: dict[str, tuple[str, bytes]] = {
        "quantity-400-digits": ("Quantity", b"9" * 400),
        "quantity-signs": ("Quantity", b"+-2"),
        "quantity-superscript": ("Quantity", "1\u00b2".encode()),
        "quantity-arabic-indic": ("Quantity", "\u0663".encode()),
        "quantity-negative": ("Quantity", b"-3"),
        "quantity-decimal": ("Quantity", b"2.0"),
        "netweight-1e400": ("NetWeight", b"1E+400"),
        "netweight-minus-1e400": ("NetWeight", b"-1E+400"),
        "netweight-tiny": ("NetWeight", b"1E-400"),
        "netweight-nan": ("NetWeight", b"NaN"),
        "netweight-infinity": ("NetWeight", b"-Infinity"),
        "netweight-comma": ("NetWeight", b"0,5"),
        "value-400-digits": ("Value", b"1" + b"0" * 400),
        "value-blank": ("Value", b"   "),
        "function-0": ("MessageFunction", b"0"),
        "function-99": ("MessageFunction", b"99"),
        "prepared-no-offset": ("PreparedAt", b"2026-11-20T10:00:00"),
        "prepared-garbage": ("PreparedAt", b"yesterday"),
        "posting-year-1": ("PostingDateTime", b"0001-01-01T00:00:00+00:00"),
        "posting-year-9999": ("PostingDateTime", b"9999-12-31T23:59:59+00:00"),
        "hs-letters": ("HSCode", b"ABCDEF"),
        "country-long": ("OriginCountry", b"CHINA"),
        "description-long": ("Description", b"cotton " * 150),
    }
    return {f"hostile-{name}.xml": _leaf(base, tag, text) for name, (tag, text) in cases.items()}


def itmatt_seeds() -> dict[str, bytes]:
    """ITMATT 1.1 and 1.2, mixed address layouts and awkward leaf values."""
    base = _itmatt()
    return {
        "seed-itmatt-1.2-a.xml": base,
        "seed-itmatt-2-items.xml": _itmatt("1.2", per_message=2),
        "seed-itmatt-1.1.xml": _itmatt("1.1"),
        "seed-crlf-pretty.xml": _pretty_crlf(base),
        "hostile-cusitm-root.xml": _cusitm(),
        "hostile-version-2.xml": base.replace(b'version="1.2"', b'version="2.0"', 1),
        "hostile-1.1-with-street.xml": _itmatt("1.1").replace(
            b"<Address>", b"<Address><Street>Main</Street>", 1
        ),
        "hostile-1.2-with-line.xml": base.replace(b"<Address>", b"<Address><Line>1 Main</Line>", 1),
        "hostile-foreign-namespace-leaf.xml": _in_item(
            base, b"<x:Comments xmlns:x='urn:other'>foreign</x:Comments>"
        ),
        "hostile-item-id-type.xml": base.replace(b"<ItemId>", b'<ItemId idType="HAWB">', 1),
        "hostile-truncated.xml": base[: len(base) * 3 // 4],
        # Text leaves are the rulebook's business (check_message has them); numbers and
        # date-times are where decoding itself can go wrong.
        **{
            name: data
            for name, data in leaf_variants(base).items()
            if not name.startswith(("hostile-hs-", "hostile-country-", "hostile-description-"))
        },
    }


def cusitm_seeds() -> dict[str, bytes]:
    """CUSITM with its header specifics (transport document, expected arrival)."""
    base = _cusitm()
    return {
        "seed-cusitm-a.xml": base,
        "seed-cusitm-2-items.xml": _cusitm(per_message=2),
        "hostile-itmatt-root.xml": _itmatt(),
        "hostile-version-2.xml": base.replace(b'version="1"', b'version="2"', 1),
        "hostile-transport-document.xml": re.sub(
            rb"<TransportDocument[^>]*>", b'<TransportDocument type="SHIP">', base, count=1
        ),
        "hostile-expected-arrival.xml": _leaf(
            base, "ExpectedArrival", b"9999-12-31T23:59:59-23:59"
        ),
        "hostile-netweight-1e400.xml": _leaf(base, "NetWeight", b"1E+400"),
        "hostile-quantity-400-digits.xml": _leaf(base, "Quantity", b"7" * 400),
        "hostile-truncated.xml": base[: len(base) // 2],
    }


def cusrsp_seeds() -> dict[str, bytes]:
    """CUSRSP without each required element it raises MessageRejected for."""
    base = _cusrsp()
    return {
        "seed-cusrsp.xml": base,
        "hostile-no-header.xml": re.sub(rb"<Header>.*?</Header>", b"", base, count=1),
        "hostile-no-decided-at.xml": re.sub(rb"<DecidedAt>[^<]*</DecidedAt>", b"", base, count=1),
        "hostile-no-decision.xml": re.sub(rb"<Decision[^>]*>[^<]*</Decision>", b"", base, count=1),
        "hostile-decided-no-offset.xml": _leaf(base, "DecidedAt", b"2026-11-20T12:30:00"),
        "hostile-indicator-400-digits.xml": _leaf(base, "ProcessingIndicator", b"4" * 400),
        "hostile-indicator-signs.xml": _leaf(base, "ProcessingIndicator", b"-+4"),
        "hostile-indicator-superscript.xml": _leaf(base, "ProcessingIndicator", "4\u00b2".encode()),
        "hostile-axis.xml": base.replace(b'axis="FISCAL"', b'axis="BOTH"', 1),
        "hostile-empty-reason.xml": _in_item_response(base, b"<Reason/><Error/>"),
        "hostile-itmatt-root.xml": _itmatt(),
        "hostile-truncated.xml": base[: len(base) // 2],
    }


def _in_item_response(data: bytes, markup: bytes) -> bytes:
    """`markup` appended inside the first `<Response>`."""
    end = data.index(b"</Response>")
    return data[:end] + markup + data[end:]


def check_seeds() -> dict[str, bytes]:
    """Clean and defective messages, refusals and leaf values through the whole check."""
    base = _itmatt()
    return {
        "seed-itmatt-1.2-a.xml": base,
        "seed-itmatt-2-items.xml": _itmatt("1.2", per_message=2),
        "seed-itmatt-1.1.xml": _itmatt("1.1"),
        "seed-cusitm-a.xml": _cusitm(),
        "seed-cusitm-b.xml": _cusitm(1),
        "hostile-cusrsp-root.xml": _cusrsp(),
        # Deeper than 32 but within libxml2's 256: the depth check after a failed schema.
        "hostile-deep-40.xml": _in_item(base, _nest(40)),
        "hostile-doctype.xml": _after_declaration(base, b"<!DOCTYPE ITMATT>"),
        "hostile-truncated.xml": base[: len(base) // 2],
        "hostile-latin1.xml": latin1(base, _RNG),
        "hostile-function-cancel.xml": _leaf(base, "MessageFunction", b"1"),
        **leaf_variants(base),
    }


# ---------------------------------------------------------------- JSON manifest variants


def _number(data: bytes, key: str, text: bytes) -> bytes:
    """`data` with the first number (or null) under `key` replaced by raw `text`."""
    pattern = re.compile(rb'("' + key.encode() + rb'": )(-?[0-9][0-9.eE+-]*|null)')
    changed, count = pattern.subn(lambda m: m.group(1) + text, data, count=1)
    assert count == 1, key
    return changed


def _string(data: bytes, key: str, text: bytes) -> bytes:
    """`data` with the first string (or null) under `key` replaced by raw `text`."""
    pattern = re.compile(rb'("' + key.encode() + rb'": )("(?:[^"\\]|\\.)*"|null)')
    changed, count = pattern.subn(lambda m: m.group(1) + text, data, count=1)
    assert count == 1, key
    return changed


def _compact(data: bytes) -> bytes:
    """The generator's indented JSON on one line; numbers keep their exact text."""
    return re.sub(rb"\n *", b"", data)


def manifest_json_seeds() -> dict[str, bytes]:
    """Valid manifests, then numbers, keys, encodings and nesting JSON allows or not."""
    manifests = _generated()["manifest-json"]
    base = _compact(manifests[0])
    numbers = {
        "value-1e1000000": ("value", b"1e1000000"),
        "gross-weight-1e5000": ("gross_weight_kg", b"1e5000"),
        "line-value-1e400": ("net_weight_kg", b"1e400"),
        "value-minus-1e400": ("value", b"-1e400"),
        "value-1e-400": ("value", b"1e-400"),
        "value-zero-tiny-exponent": ("value", b"0e-1000000"),
        "value-too-precise": ("value", b"1.0000000000000000000000000000001"),
        "pieces-400-digits": ("pieces", b"9" * 400),
        "quantity-400-digits": ("quantity", b"1" + b"0" * 399),
        "quantity-1e3": ("quantity", b"1e3"),
        "quantity-fraction": ("quantity", b"2.5"),
        "value-nan": ("value", b"NaN"),
        "value-infinity": ("value", b"Infinity"),
        "value-minus-infinity": ("gross_weight_kg", b"-Infinity"),
        "value-true": ("value", b"true"),
        "value-string": ("value", b'"12.50"'),
    }
    seeds = {
        "seed-manifest-a.json": base,
        "seed-manifest-2-shipments.json": _compact(_generated(2)["manifest-json"][0]),
        "seed-pretty-crlf.json": manifests[1].replace(b"\n", b"\r\n"),
        "seed-bom.json": codecs.BOM_UTF8 + base,
        **{
            f"hostile-{name}.json": _number(base, key, text)
            for name, (key, text) in numbers.items()
        },
        "hostile-duplicate-carrier.json": base.replace(
            b'"carrier": ', b'"carrier": "DHLX",\n  "carrier": ', 1
        ),
        "hostile-duplicate-shipment-key.json": base.replace(
            b'"hawb": ', b'"hawb": "1",\n      "hawb": ', 1
        ),
        "hostile-hs-code-number.json": _string(base, "hs_code", b"610910"),
        "hostile-nul-escape.json": _string(base, "description", b'"T-shirt\\u0000"'),
        "hostile-lone-surrogate.json": _string(base, "description", b'"\\ud800"'),
        "hostile-raw-nul.json": _string(base, "description", b'"T\x00shirt"'),
        "hostile-invalid-utf8.json": _string(base, "description", b'"T\xffshirt"'),
        "hostile-departure-year-1.json": _string(base, "departure", b'"0001-01-01T00:00:00+00:00"'),
        "hostile-arrival-year-9999.json": _string(base, "arrival", b'"9999-12-31T23:59:59+00:00"'),
        "hostile-departure-naive.json": _string(base, "departure", b'"2026-11-20T10:00:00"'),
        "hostile-shipments-empty.json": re.sub(
            rb'"shipments": \[.*\]', b'"shipments": []', base, count=1, flags=re.S
        ),
        "hostile-unknown-key.json": base.replace(b'"flight": ', b'"fligth": ', 1),
        "hostile-utf16.json": codecs.BOM_UTF16_LE + _compact(base).decode().encode("utf-16-le"),
        "hostile-deep-arrays.json": b"[" * 1100 + b"]" * 1100,
        "hostile-top-level-array.json": b"[" + base + b"]",
        "hostile-top-level-number.json": b"1e1000000",
        "hostile-empty.json": b"",
        "hostile-truncated.json": base[: len(base) // 2],
    }
    return seeds


# ---------------------------------------------------------------- CSV variants


def _csv(rows: list[list[str]], newline: str = "\n") -> bytes:
    """Rows written by the csv module, so quoting is right unless a case breaks it on purpose."""
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator=newline).writerows(rows)
    return out.getvalue().encode()


def csv_seeds(base: bytes, longer: bytes) -> dict[str, bytes]:
    """Valid exports and broken ones; the same breakage applies to both CSV layouts."""
    header, row, *_ = csv.reader(io.StringIO(base.decode(), newline=""))
    date = header.index("posting_datetime" if "posting_datetime" in header else "departure")
    description, quantity = header.index("description"), header.index("quantity")

    def cell(index: int, value: str) -> list[str]:
        """The first data row with one cell changed."""
        return [value if i == index else old for i, old in enumerate(row)]

    def raw(index: int, value: bytes) -> bytes:
        """The export with one cell's bytes replaced as they are, not quoted."""
        marker = "\ue000"
        return _csv([header, cell(index, marker)]).replace(marker.encode(), value)

    other = cell(date, row[date].replace("2026", "2025"))
    return {
        "seed-export.csv": base,
        "seed-export-2-items.csv": longer,
        "seed-two-rows.csv": _csv([header, row, row]),
        "seed-crlf.csv": _csv([header, row], "\r\n"),
        "seed-bom.csv": codecs.BOM_UTF8 + base,
        "seed-quoted-newline.csv": _csv([header, cell(description, "two\r\nlines, quoted")]),
        "hostile-header-only.csv": _csv([header]),
        "hostile-empty.csv": b"",
        "hostile-bom-only.csv": codecs.BOM_UTF8,
        "hostile-bare-cr.csv": _csv([header, row], "\r"),
        "hostile-fewer-cells.csv": _csv([header, row[:-3]]),
        "hostile-more-cells.csv": _csv([header, [*row, "extra", "cells"]]),
        "hostile-nul-byte.csv": _csv([header, cell(description, "T\x00shirt")]),
        "hostile-control-char.csv": _csv([header, cell(description, "T\x1bshirt")]),
        "hostile-unbalanced-quote.csv": raw(description, b'"T-shirt'),
        "hostile-quote-in-cell.csv": raw(description, b'T"shirt'),
        "hostile-duplicate-column.csv": _csv([[*header, header[0]], [*row, "x"]]),
        "hostile-unknown-column.csv": _csv([[*header, "colour"], [*row, "red"]]),
        "hostile-missing-column.csv": _csv([header[1:], row[1:]]),
        "hostile-shouting-header.csv": _csv([[f" {name.upper()} " for name in header], row]),
        "hostile-blank-rows.csv": _csv([header, ["", " ", ""], [], row, [" "] * len(row)]),
        "hostile-conflicting-rows.csv": _csv([header, row, other]),
        "hostile-quantity-4400-digits.csv": _csv([header, cell(quantity, "9" * 4400)]),
        "hostile-quantity-exponent.csv": _csv([header, cell(quantity, "1e5")]),
        "hostile-quantity-comma.csv": _csv([header, cell(quantity, "1,5")]),
        "hostile-number-40-digits.csv": _csv([header, cell(quantity + 1, "0." + "0" * 37 + "1")]),
        "hostile-invalid-utf8.csv": raw(description, b"T\xffshirt"),
        "hostile-utf16.csv": codecs.BOM_UTF16_LE + base.decode().encode("utf-16-le"),
        "hostile-date-year-9999.csv": _csv([header, cell(date, "9999-12-31T23:59:59-23:59")]),
        "hostile-date-year-1.csv": _csv([header, cell(date, "0001-01-01T00:00:00+23:59")]),
    }


if __name__ == "__main__":
    main()
