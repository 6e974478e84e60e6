"""Line charts as inline SVG for the node and journey pages: no script, no external asset, so
they render under the pages' Content-Security-Policy. Pure: data to markup."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

WIDTH, HEIGHT = 600, 160
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 46, 8, 8, 20

STYLE = """
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(300px,1fr));gap:10px}
figure.chart{margin:0;background:var(--card);border:1px solid var(--line);border-radius:6px;
padding:6px 8px;min-width:0}
figure.chart figcaption{font-size:12px;color:var(--muted)}
figure.chart svg{width:100%;height:auto;display:block}
.chart .axis{stroke:var(--line);stroke-width:1}
.chart text{font-size:11px;fill:var(--muted)}
.chart .threshold{stroke:var(--page);stroke-dasharray:4 3;stroke-width:1}
.chart polyline{fill:none;stroke-width:1.6}
.chart .s0{stroke:#0b5cad}.chart .s1{stroke:#b35900}.chart .s2{stroke:#7b1fa2}
.chart .s3{stroke:#1a7f37}.chart .legend span{margin-right:8px}
.chart .f0{fill:#0b5cad}.chart .f1{fill:#b35900}.chart .f2{fill:#7b1fa2}.chart .f3{fill:#1a7f37}
.legend .k0{color:#0b5cad}.legend .k1{color:#b35900}.legend .k2{color:#7b1fa2}
.legend .k3{color:#1a7f37}
"""


@dataclass(frozen=True, slots=True)
class Line:
    label: str
    points: Sequence[tuple[float, float | None]]  # (unix time, value or None for a gap)


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _when(unix: float, span: float) -> str:
    fmt = "%H:%M" if span <= 2 * 86400 else "%m-%d"
    return datetime.fromtimestamp(unix, UTC).strftime(fmt)


def chart(
    title: str,
    lines: Sequence[Line],
    *,
    unit: str = "",
    threshold: float | None = None,
    floor: float | None = None,
    ceiling: float | None = None,
    fmt: str = "{:.3g}",
) -> str:
    """A figure with one polyline per line (gaps split it), a dashed ``threshold`` and the
    min and max on the y axis. ``data-points`` counts the points drawn."""
    values = [v for line in lines for _, v in line.points if v is not None]
    times = [t for line in lines for t, _ in line.points]
    if threshold is not None:
        values.append(threshold)
    legend = "".join(
        f'<span class="k{i % 4}">{_e(line.label)}</span>' for i, line in enumerate(lines)
    )
    head = f'<figcaption>{_e(title)} <span class="legend">{legend}</span></figcaption>'
    if not values or not times:
        return f'<figure class="chart" data-points="0">{head}<p class="empty">No data.</p></figure>'
    lo = min(values) if floor is None else min(floor, *values)
    hi = max(values) if ceiling is None else max(ceiling, *values)
    if hi <= lo:
        hi = lo + (abs(lo) or 1.0)
    t0, t1 = min(times), max(times)
    span = (t1 - t0) or 1.0
    inner_w, inner_h = WIDTH - PAD_LEFT - PAD_RIGHT, HEIGHT - PAD_TOP - PAD_BOTTOM

    def x(t: float) -> float:
        return PAD_LEFT + (t - t0) / span * inner_w

    def y(v: float) -> float:
        return PAD_TOP + (hi - v) / (hi - lo) * inner_h

    drawn = 0
    paths = []
    for i, line in enumerate(lines):
        run: list[str] = []
        for t, v in [*line.points, (t1, None)]:
            if v is None:
                if len(run) == 1:  # a lone point: a dot, a line of one point draws nothing
                    cx, cy = run[0].split(",")
                    paths.append(f'<circle class="f{i % 4}" cx="{cx}" cy="{cy}" r="2.5"/>')
                if run:
                    paths.append(f'<polyline class="s{i % 4}" points="{" ".join(run)}"/>')
                    run = []
                continue
            run.append(f"{x(t):.1f},{y(v):.1f}")
            drawn += 1
    rule = ""
    if threshold is not None:
        ty = y(threshold)
        rule = (
            f'<line class="threshold" x1="{PAD_LEFT}" x2="{WIDTH - PAD_RIGHT}" '
            f'y1="{ty:.1f}" y2="{ty:.1f}"/>'
        )
    axes = (
        f'<line class="axis" x1="{PAD_LEFT}" x2="{PAD_LEFT}" y1="{PAD_TOP}" '
        f'y2="{HEIGHT - PAD_BOTTOM}"/>'
        f'<line class="axis" x1="{PAD_LEFT}" x2="{WIDTH - PAD_RIGHT}" '
        f'y1="{HEIGHT - PAD_BOTTOM}" y2="{HEIGHT - PAD_BOTTOM}"/>'
        f'<text x="2" y="{PAD_TOP + 9}">{_e(fmt.format(hi) + unit)}</text>'
        f'<text x="2" y="{HEIGHT - PAD_BOTTOM}">{_e(fmt.format(lo) + unit)}</text>'
        f'<text x="{PAD_LEFT}" y="{HEIGHT - 4}">{_e(_when(t0, span))}</text>'
        f'<text x="{WIDTH - PAD_RIGHT}" y="{HEIGHT - 4}" text-anchor="end">'
        f"{_e(_when(t1, span))} UTC</text>"
    )
    svg = (
        f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{_e(title)}">'
        f"{axes}{rule}{''.join(paths)}</svg>"
    )
    return f'<figure class="chart" data-points="{drawn}">{head}{svg}</figure>'
