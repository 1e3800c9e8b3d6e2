"""Reproducible synthetic AED traffic with labelled ground truth (`aedex generate`)."""

from adapters.generator.intake import message_xml
from adapters.generator.output import Envelope, GeneratedFile, Label
from adapters.generator.traffic import GeneratorOptions, generate, itmatt_only
from adapters.generator.writer import TrafficSummary, write_traffic

__all__ = [
    "Envelope",
    "GeneratedFile",
    "GeneratorOptions",
    "Label",
    "TrafficSummary",
    "generate",
    "itmatt_only",
    "message_xml",
    "write_traffic",
]
