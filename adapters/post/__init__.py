"""Postal operators: CN 23 CSV to ITMATT, and the ITMATT/CUSITM envelope check."""

from adapters.post.cn23_csv import cn23_csv_to_itmatt, itmatt_to_cn23_csv
from adapters.post.itmatt import Envelope, inspect_envelope, inspect_itmatt

__all__ = [
    "Envelope",
    "cn23_csv_to_itmatt",
    "inspect_envelope",
    "inspect_itmatt",
    "itmatt_to_cn23_csv",
]
