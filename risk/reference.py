"""Reference values per HS heading and origin, built from accepted traffic.

Undervaluation rules compare a line's EUR per kg and per unit with the
median of accepted goods of the same HS heading (4 digits) and origin, and
of the heading from any origin as a fallback. `build_reference` computes that
table from canonical items; the pipeline rebuilds it from the last 30 days,
and the packaged `risk/data/reference_values.csv` is the cold start.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable

from messages.canonical import Item
from risk.state import Reference, low_decile

DEFAULT_MIN_SAMPLES = 30


def build_reference(
    items: Iterable[Item], *, min_samples: int = DEFAULT_MIN_SAMPLES
) -> dict[tuple[str, str], Reference]:
    """Median EUR/kg and EUR/unit per (heading, origin) and per (heading, any origin)."""
    per_kg: dict[tuple[str, str], list[float]] = defaultdict(list)
    per_unit: dict[tuple[str, str], list[float]] = defaultdict(list)
    for item in items:
        for line in item.lines:
            if (
                not line.hs_code
                or len(line.hs_code) < 4
                or not line.value_eur
                or line.value_eur <= 0
            ):
                continue
            codes = (
                (line.hs_code[:6], line.hs_code[:4])
                if len(line.hs_code) >= 6
                else (line.hs_code[:4],)
            )
            for key in [(code, origin) for code in codes for origin in (line.origin or "", "")]:
                if line.net_weight_kg:
                    per_kg[key].append(float(line.value_eur / line.net_weight_kg))
                if line.quantity:
                    per_unit[key].append(float(line.value_eur) / line.quantity)
    table: dict[tuple[str, str], Reference] = {}
    for key in sorted(set(per_kg) | set(per_unit)):
        samples = max(len(per_kg.get(key, ())), len(per_unit.get(key, ())))
        if samples < min_samples:
            continue
        table[key] = Reference(
            round(statistics.median(per_kg[key]), 2) if per_kg.get(key) else None,
            round(statistics.median(per_unit[key]), 2) if per_unit.get(key) else None,
            samples,
            round(p10, 2) if (p10 := low_decile(per_unit.get(key, []))) is not None else None,
        )
    return table


def reference_csv(table: dict[tuple[str, str], Reference], *, note: str) -> str:
    """The CSV `risk.state.load_reference_table` reads, with a provenance comment first."""
    rows = [
        f"# {note}",
        "hs,origin,value_per_kg_eur,value_per_unit_eur,samples,value_per_unit_p10_eur",
    ]
    for (code, origin), ref in sorted(table.items()):
        kg = "" if ref.value_per_kg is None else f"{ref.value_per_kg:.2f}"
        unit = "" if ref.value_per_unit is None else f"{ref.value_per_unit:.2f}"
        p10 = "" if ref.value_per_unit_p10 is None else f"{ref.value_per_unit_p10:.2f}"
        rows.append(f"{code},{origin},{kg},{unit},{ref.samples},{p10}")
    return "\n".join(rows) + "\n"
