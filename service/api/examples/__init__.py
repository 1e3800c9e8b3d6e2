"""Real request bodies for the OpenAPI document: one per media type a route takes.

Kept as files (package data) so they are what a sender would post, byte for
byte; tests post each one and check it is accepted without an error finding.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from typing import Any

import orjson


@cache
def example(name: str) -> str:
    return files("service.api.examples").joinpath(name).read_text(encoding="utf-8")


def xml_examples() -> dict[str, Any]:
    return {
        "itmatt": {"summary": "ITMATT 1.2, one item", "value": example("itmatt.xml")},
        "cusitm": {"summary": "CUSITM, one express item", "value": example("cusitm.xml")},
    }


def manifest_json_example() -> dict[str, Any]:
    return {
        "manifest": {
            "summary": "express manifest, JSON",
            "value": orjson.loads(example("manifest.json")),
        }
    }


def manifest_csv_example() -> dict[str, Any]:
    return {"manifest": {"summary": "express manifest, CSV", "value": example("manifest.csv")}}
