"""Charts as inline SVG, drawn on the server (no chart library, no CDN). Every text is escaped.

Each chart has a ``viewBox`` and scales to its container's width (``.chart svg { width: 100% }``), so it
fits a phone as well as a desktop.
"""

from __future__ import annotations

from datetime import date

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from scorecards.history import NONE

NONE_COLOUR = "#c4cad3"
PALETTE = ("#c77d2e", "#7d8fa6", "#d4a017", "#1d7a46", "#2456d6", "#6b2fa3")  # lowest level first


def level_colour(levels: list[str], level: str) -> str:
    """The colour of ``level`` (grey when none is reached), the same on every chart and badge."""
    if level not in levels:
        return NONE_COLOUR
    index = levels.index(level)
    if len(levels) <= 3:
        index += 3 - len(levels)  # two levels: silver and gold colours, one level: gold
    return PALETTE[min(index, len(PALETTE) - 1)]


def _svg(width: int, height: int, label: str, body: list[str], *, stretch: bool = False) -> SafeString:
    """``stretch``: fill the box CSS gives (a bar without text); otherwise scale keeping the proportions."""
    aspect = "none" if stretch else "xMinYMin meet"
    return mark_safe(  # noqa: S308 - every value below is a number or went through escape()
        f'<svg viewBox="0 0 {width} {height}" role="img" aria-label="{escape(label)}" '
        f'xmlns="http://www.w3.org/2000/svg" preserveAspectRatio="{aspect}">{"".join(body)}</svg>'
    )


def distribution_bar(levels: list[str], counts: dict[str, int], *, width: int = 600, height: int = 20) -> SafeString:
    """One stacked bar: entities per level, none reached first."""
    total = sum(counts.values())
    body, x = [], 0.0
    for level in (NONE, *levels):
        n = counts.get(level, 0)
        if not n:
            continue
        w = width * n / total
        name = "no level" if level == NONE else level
        body.append(f'<rect x="{x:.1f}" y="0" width="{w:.1f}" height="{height}" fill="{level_colour(levels, level)}">'
                    f"<title>{escape(name)}: {n}</title></rect>")  # fmt: skip
        x += w
    if not total:
        body.append(f'<rect width="{width}" height="{height}" fill="#eef1f5"/>')
    parts = ", ".join(f"{'no level' if k == NONE else k} {v}" for k, v in counts.items())
    return _svg(width, height, f"Entities per level: {parts}", body, stretch=True)


def trend_chart(levels: list[str], series: list[tuple[date, dict[str, int]]], *, width: int = 480,
                height: int = 190, min_days: int = 7) -> SafeString:  # fmt: skip
    """Stacked steps: entities per level, one column per day (none reached at the bottom). Leading days
    without any entity are left out (keeping at least ``min_days``), so a young history fills the width."""
    first = next((i for i, (_, counts) in enumerate(series) if any(counts.values())), len(series))
    series = series[min(first, max(len(series) - min_days, 0)) :]
    left, bottom, top = 34, 22, 8
    plot_w, plot_h = width - left - 8, height - bottom - top
    peak = max((sum(c.values()) for _, c in series), default=0) or 1
    step = plot_w / max(len(series), 1)

    def steps(values: list[int]) -> list[str]:
        out = []
        for i, value in enumerate(values):
            y = top + plot_h - plot_h * value / peak
            out += [f"{left + i * step:.1f},{y:.1f}", f"{left + (i + 1) * step:.1f},{y:.1f}"]
        return out

    body = [_axes(left, top, plot_w, plot_h, peak)]
    below = [0] * len(series)
    for level in (NONE, *levels):
        above = [below[i] + counts.get(level, 0) for i, (_, counts) in enumerate(series)]
        if above == below:
            continue
        points = steps(above) + list(reversed(steps(below)))
        name = "no level" if level == NONE else level
        body.append(f'<polygon points="{" ".join(points)}" fill="{level_colour(levels, level)}" opacity=".9">'
                    f"<title>{escape(name)}</title></polygon>")  # fmt: skip
        below = above
    body.extend(_day_labels(series, left, left + plot_w, height))
    return _svg(width, height, f"Entities per level over the last {len(series)} days", body)


def burnup_chart(series: list[tuple[date, int]], *, total: int, start: date, deadline: date, width: int = 480,
                 height: int = 200) -> SafeString:  # fmt: skip
    """Entities done per day (solid), the scope (dashed, top) and the even pace to the deadline (dotted)."""
    left, bottom, top = 34, 22, 10
    plot_w, plot_h = width - left - 10, height - bottom - top
    last = max(deadline, series[-1][0] if series else start)
    days = max((last - start).days, 1)
    peak = max(total, max((n for _, n in series), default=0), 1)

    def x(day: date) -> float:
        return left + plot_w * (day - start).days / days

    def y(value: float) -> float:
        return top + plot_h - plot_h * value / peak

    body = [_axes(left, top, plot_w, plot_h, peak)]
    body.append(f'<line class="scope" x1="{left}" x2="{left + plot_w}" y1="{y(total):.1f}" y2="{y(total):.1f}" '
                f'stroke="#5d6878" stroke-dasharray="6 4"><title>In scope: {total}</title></line>')  # fmt: skip
    body.append(f'<line class="pace" x1="{x(start):.1f}" y1="{y(0):.1f}" x2="{x(deadline):.1f}" y2="{y(total):.1f}" '
                f'stroke="#9aa4b1" stroke-dasharray="2 4"><title>Even pace to the deadline</title></line>')  # fmt: skip
    body.append(f'<line class="deadline" x1="{x(deadline):.1f}" x2="{x(deadline):.1f}" y1="{top}" '
                f'y2="{top + plot_h}" stroke="#b42318" stroke-width="1.5"><title>Deadline {deadline}</title></line>'
                f'<text x="{x(deadline) - 4:.1f}" y="{top + 12}" text-anchor="end" font-size="12" fill="#b42318">'
                "deadline</text>")  # fmt: skip
    if series:
        points = " ".join(f"{x(day):.1f},{y(n):.1f}" for day, n in series)
        body.append(f'<polyline class="done" points="{points}" fill="none" stroke="#1d7a46" stroke-width="2.5"/>')
        day, n = series[-1]
        body.append(f'<circle cx="{x(day):.1f}" cy="{y(n):.1f}" r="3.5" fill="#1d7a46"><title>{day}: {n} done'
                    "</title></circle>")  # fmt: skip
    body.append(f'<text x="{left}" y="{height - 6}" font-size="12" fill="#5d6878">{start}</text>'
                f'<text x="{left + plot_w}" y="{height - 6}" font-size="12" fill="#5d6878" text-anchor="end">'
                f"{last}</text>")  # fmt: skip
    done = series[-1][1] if series else 0
    return _svg(width, height, f"Burn-up: {done} of {total} done, deadline {deadline}", body)


def _axes(left: int, top: int, plot_w: float, plot_h: float, peak: int) -> str:
    return (f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="#dde2ea"/>'
            f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}" stroke="#dde2ea"/>'
            f'<text x="{left - 5}" y="{top + 10}" font-size="12" fill="#5d6878" text-anchor="end">{peak}</text>'
            f'<text x="{left - 5}" y="{top + plot_h}" font-size="12" fill="#5d6878" '
            'text-anchor="end">0</text>')  # fmt: skip


def _day_labels(series, left: int, x_last: float, height: int) -> list[str]:
    if not series:
        return []
    first, last = series[0][0], series[-1][0]
    return [f'<text x="{left}" y="{height - 6}" font-size="12" fill="#5d6878">{first:%d %b}</text>',
            f'<text x="{x_last:.1f}" y="{height - 6}" font-size="12" fill="#5d6878" text-anchor="end">{last:%d %b}'
            "</text>"]  # fmt: skip
