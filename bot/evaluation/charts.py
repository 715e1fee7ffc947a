"""Small static SVG charts, built as text so a report renders offline with no scripts."""

from __future__ import annotations

from html import escape

from bot.evaluation.metrics import percentile

FONT = "font-family=\"-apple-system,'PingFang SC','Microsoft YaHei',sans-serif\""
GOOD = "#2f9e44"
BAD = "#e03131"
INK = "#343a40"
MUTED = "#868e96"


def _svg(chart_id: str, title: str, width: int, height: int, body: list[str]) -> str:
    return (
        f'<svg id="{escape(chart_id)}" class="chart" xmlns="http://www.w3.org/2000/svg" '
        f'role="img" aria-label="{escape(title)}" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" {FONT} font-size="12">'
        f"<title>{escape(title)}</title>" + "".join(body) + "</svg>"
    )


def _mix(rate: float) -> str:
    """Red (0) → amber → green (1)."""
    rate = min(1.0, max(0.0, rate))
    if rate < 0.5:
        r, g = 224, int(49 + (170 - 49) * rate * 2)
    else:
        r, g = int(224 - (224 - 47) * (rate - 0.5) * 2), int(170 - (170 - 158) * (rate - 0.5) * 2)
    return f"rgb({r},{g},{68})"


def accuracy_bars(chart_id: str, title: str, rows: list[tuple[str, float | None, int]]) -> str:
    """Horizontal bars: one per label, ``(label, accuracy 0..1, number of turns)``."""
    label_w, bar_w, row_h, top = 130, 360, 22, 28
    height = top + row_h * max(1, len(rows)) + 10
    body = [f'<text x="4" y="16" fill="{INK}" font-weight="600">{escape(title)}</text>']
    for i, (label, rate, n) in enumerate(rows):
        y = top + i * row_h
        body.append(f'<text x="{label_w - 6}" y="{y + 14}" text-anchor="end" fill="{INK}">{escape(label)}</text>')
        body.append(f'<rect x="{label_w}" y="{y + 3}" width="{bar_w}" height="{row_h - 6}" fill="#f1f3f5"/>')
        if rate is not None:
            w = round(bar_w * rate, 1)
            body.append(
                f'<rect class="bar" data-label="{escape(label)}" data-value="{rate:.4f}" x="{label_w}" '
                f'y="{y + 3}" width="{w}" height="{row_h - 6}" fill="{_mix(rate)}"/>'
            )
        text = "—" if rate is None else f"{rate:.0%}  ({n})"
        body.append(f'<text x="{label_w + bar_w + 6}" y="{y + 14}" fill="{MUTED}">{escape(text)}</text>')
    return _svg(chart_id, title, label_w + bar_w + 80, height, body)


def confusion_heatmap(
    chart_id: str, title: str, labels: list[str], matrix: dict[str, dict[str, int]]
) -> str:
    """Rows = expected, columns = what the bot said; cells shaded by share of the row."""
    rows = [label for label in labels if label in matrix]
    cell, left, top = 26, 130, 130
    width = max(left + cell * len(labels) + 20, 460)
    height = top + cell * max(1, len(rows)) + 30
    body = [
        f'<text x="4" y="16" fill="{INK}" font-weight="600">{escape(title)}</text>',
        f'<text x="4" y="{height - 8}" fill="{MUTED}">行：期望 expected · 列：机器人判定 actual</text>',
    ]
    for j, label in enumerate(labels):
        x = left + j * cell + cell / 2
        body.append(
            f'<text x="{x}" y="{top - 6}" fill="{INK}" transform="rotate(-55 {x} {top - 6})">{escape(label)}</text>'
        )
    for i, expected in enumerate(rows):
        y = top + i * cell
        row = matrix.get(expected, {})
        total = sum(row.values()) or 1
        body.append(f'<text x="{left - 6}" y="{y + cell / 2 + 4}" text-anchor="end" fill="{INK}">{escape(expected)}</text>')
        for j, actual in enumerate(labels):
            n = row.get(actual, 0)
            x = left + j * cell
            if n:
                share = n / total
                colour = GOOD if actual == expected else BAD
                body.append(
                    f'<rect class="cell" data-expected="{escape(expected)}" data-actual="{escape(actual)}" '
                    f'data-count="{n}" x="{x}" y="{y}" width="{cell - 1}" height="{cell - 1}" '
                    f'fill="{colour}" fill-opacity="{0.25 + 0.75 * share:.2f}"/>'
                )
                body.append(
                    f'<text x="{x + cell / 2}" y="{y + cell / 2 + 4}" text-anchor="middle" fill="#fff" font-size="11">{n}</text>'
                )
            else:
                body.append(f'<rect x="{x}" y="{y}" width="{cell - 1}" height="{cell - 1}" fill="#f8f9fa"/>')
    return _svg(chart_id, title, width, height, body)


def histogram(chart_id: str, title: str, values: list[float], *, bins: int = 20, unit: str = "ms") -> str:
    """Counts of ``values`` in equal-width bins, with p50 and p95 marked."""
    left, top, plot_w, plot_h = 48, 28, 480, 180
    width, height = left + plot_w + 20, top + plot_h + 44
    body = [f'<text x="4" y="16" fill="{INK}" font-weight="600">{escape(title)}</text>']
    if not values:
        body.append(f'<text x="{left}" y="{top + 20}" fill="{MUTED}">no data</text>')
        return _svg(chart_id, title, width, height, body)
    lo, hi = min(values), max(values)
    span = (hi - lo) or 1.0
    bins = max(1, min(bins, len(values)))
    counts = [0] * bins
    for v in values:
        counts[min(bins - 1, int((v - lo) / span * bins))] += 1
    peak = max(counts)
    bw = plot_w / bins
    for k, n in enumerate(counts):
        h = plot_h * n / peak
        x = left + k * bw
        start = lo + span * k / bins
        body.append(
            f'<rect class="bin" data-count="{n}" data-from="{start:.1f}" x="{x:.1f}" y="{top + plot_h - h:.1f}" '
            f'width="{max(bw - 1, 1):.1f}" height="{h:.1f}" fill="#4dabf7"/>'
        )
    body.append(f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="{INK}"/>')
    body.append(f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}" stroke="{INK}"/>')
    body.append(f'<text x="{left - 4}" y="{top + 8}" text-anchor="end" fill="{MUTED}">{peak}</text>')
    body.append(f'<text x="{left - 4}" y="{top + plot_h}" text-anchor="end" fill="{MUTED}">0</text>')
    body.append(f'<text x="{left}" y="{top + plot_h + 16}" fill="{MUTED}">{_num(lo)} {unit}</text>')
    body.append(f'<text x="{left + plot_w}" y="{top + plot_h + 16}" text-anchor="end" fill="{MUTED}">{_num(hi)} {unit}</text>')
    for name, q, colour in (("p50", 50, GOOD), ("p95", 95, BAD)):
        v = percentile(values, q) or lo
        x = left + plot_w * (v - lo) / span
        body.append(f'<line class="{name}" x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{top + plot_h}" '
                    f'stroke="{colour}" stroke-dasharray="4 3"/>')
        body.append(f'<text x="{x + 3:.1f}" y="{top + plot_h + 32}" fill="{colour}">{name} {_num(v)}</text>')
    return _svg(chart_id, title, width, height, body)


def _num(v: float) -> str:
    return f"{v:.0f}" if abs(v) >= 10 else f"{v:.1f}"
