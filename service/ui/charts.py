"""Bar charts drawn on the server as SVG: no script, no CDN, nothing the CSP must allow.

Every label is escaped (rule ids and versions come from uploaded YAML), bars
carry a `<title>` for the exact figure, and colours come from CSS classes
(`.series-0`, `.series-1`) in aedex.css, since the CSP forbids inline styles.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

ROW_HEIGHT = 18
GAP = 8
LABEL_WIDTH = 250
VALUE_WIDTH = 70


def bar_chart(
    title: str,
    rows: Sequence[tuple[str, Sequence[float | None]]],
    series: Sequence[str],
    *,
    width: int = 760,
    percent: bool = False,
) -> Markup:
    """Grouped horizontal bars: one group per row, one bar per series (None: no bar)."""
    values = [v for _, group in rows for v in group if v is not None]
    top = max([*values, 1.0 if percent else 0.0]) or 1.0
    plot = width - LABEL_WIDTH - VALUE_WIDTH
    bar = ROW_HEIGHT / max(len(series), 1)
    legend_height = 44
    height = legend_height + len(rows) * (ROW_HEIGHT + GAP) + GAP
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="100%" '
        f'xmlns="http://www.w3.org/2000/svg" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<text x="8" y="16" class="title">{escape(title)}</text>',
    ]
    for n, name in enumerate(series):
        x = LABEL_WIDTH + n * 220
        parts.append(f'<rect class="series-{n % 4}" x="{x}" y="24" width="12" height="12"/>')
        parts.append(f'<text x="{x + 16}" y="35" class="legend">{escape(name)}</text>')
    for r, (label, group) in enumerate(rows):
        y = legend_height + GAP + r * (ROW_HEIGHT + GAP)
        parts.append(
            f'<text x="{LABEL_WIDTH - 6}" y="{y + ROW_HEIGHT * 0.7:.1f}" text-anchor="end" '
            f'class="label">{escape(label)}</text>'
        )
        for n, value in enumerate(group):
            if value is None:
                continue
            length = max(plot * value / top, 1.0)
            shown = f"{value:.0%}" if percent else f"{value:,.0f}"
            by = y + n * bar
            parts.append(
                f'<rect class="series-{n % 4}" x="{LABEL_WIDTH}" y="{by:.1f}" '
                f'width="{length:.1f}" height="{bar - 1:.1f}">'
                f"<title>{escape(series[n])}: {escape(shown)}</title></rect>"
            )
            parts.append(
                f'<text x="{LABEL_WIDTH + length + 4:.1f}" y="{by + bar * 0.8:.1f}" '
                f'class="value">{escape(shown)}</text>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every interpolated text is escaped above
