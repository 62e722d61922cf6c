"""A small, dependency-free SVG chart of one measure over time, for screens and print.

Inline SVG (no scripts, no external fonts): the normal range for the client's age and sex is
shaded, published cut-offs that apply to the client are drawn as labelled dashed lines, the
baseline is marked, every value is labelled, and the direction ("higher is better") is stated.
It scales with its container (``viewBox``, no fixed pixel width) and carries ``<title>`` and
``<desc>`` for screen readers. Output is deterministic: the same input gives the same bytes.
All text goes through ``xml.sax.saxutils`` escaping.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from datetime import date
from typing import Any
from xml.sax.saxutils import escape

from .measures import MeasureDefinition, band_label, format_number
from .outcomes import (
    MeasureLike,
    Observation,
    ReportRow,
    _observation_parts,
    as_definition,
    norm_band,
    normalise_sex,
)

__all__ = ["chart_for_row", "measure_chart", "nice_ticks"]

WIDTH, HEIGHT = 640, 320
LEFT, RIGHT, TOP, BOTTOM = 64, 168, 44, 56  # plot margins (right: room for line labels)
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
DIRECTION_TEXT = {
    "higher_is_better": "Higher is better",
    "lower_is_better": "Lower is better",
    "neither": "",
}


def _n(x: float) -> str:
    """A coordinate: at most 1 decimal, no trailing zeros, never '-0'."""
    text = f"{x:.1f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def nice_ticks(lo: float, hi: float, count: int = 5, whole: bool = False) -> list[float]:
    """Round tick values (1, 2, 2.5 or 5 × 10^k steps; whole numbers only when ``whole``)
    covering lo..hi."""
    if hi < lo:
        lo, hi = hi, lo
    if hi - lo < 1e-9:
        pad = abs(lo) * 0.1 or 1.0
        lo, hi = lo - pad, hi + pad
    raw = (hi - lo) / max(1, count - 1)
    mag = 10 ** math.floor(math.log10(raw))
    mults = (1, 2, 5, 10) if whole else (1, 2, 2.5, 5, 10)
    step = next(m * mag for m in mults if m * mag >= raw)
    if whole:
        step = max(1.0, round(step))
    start = math.floor(lo / step + 1e-9) * step
    ticks = []
    i = 0
    while True:
        t = round(start + i * step, 6)
        ticks.append(t)
        if t >= hi - 1e-9 or i > 50:
            break
        i += 1
    return ticks


# A change looks as large as the axis makes it. The axis spans at least this many times the
# measure's smallest important change (its MCID, else its MDC), and at least this share of
# the values' size when no such change is on file: resting HR 62 → 60 bpm is then a small
# step, not a cliff.
SPAN_CHANGE_MULTIPLE = 4
SPAN_SHARE_OF_VALUE = 0.2


def minimum_span(m: MeasureDefinition, values: Iterable[float]) -> float:
    """The least the y axis may span for ``m`` (never more than its valid range)."""
    changes = [t.value for t in (*m.mcid, *m.mdc) if not t.alternate]
    size = max((abs(v) for v in values), default=0.0)
    span = SPAN_SHARE_OF_VALUE * size
    if changes:
        span = max(span, SPAN_CHANGE_MULTIPLE * min(changes))
    if m.valid_min is not None and m.valid_max is not None:
        span = min(span, m.valid_max - m.valid_min)
    return span


def _widen_to_minimum_span(
    m: MeasureDefinition, lo: float, hi: float, values: list[float]
) -> tuple[float, float]:
    """lo..hi widened around its middle to the minimum span, kept inside the valid range."""
    span = minimum_span(m, values)
    if hi - lo >= span or span <= 0:
        return lo, hi
    mid = (lo + hi) / 2
    new_lo, new_hi = mid - span / 2, mid + span / 2
    if m.valid_min is not None and new_lo < m.valid_min:
        new_lo, new_hi = m.valid_min, m.valid_min + span
    if m.valid_max is not None and new_hi > m.valid_max:
        new_lo, new_hi = m.valid_max - span, m.valid_max
    return min(new_lo, lo), max(new_hi, hi)


def _tick_label(value: float) -> str:
    return f"{value:g}" if abs(value) < 1e6 else f"{value:.3g}"


def _date_label(d: date, with_year: bool) -> str:
    """'Jan 6' or 'Jan 6, 2025': the documents' one date format ("%b %-d, %Y")."""
    return f"{MONTHS[d.month - 1]} {d.day}" + (f", {d.year}" if with_year else "")


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "measure"


_CMP = {"<": "<", "<=": "≤", ">": ">", ">=": "≥"}


def _wrap(text: str, width: int = 22) -> list[str]:
    lines: list[str] = []
    for part in text.split("|"):
        line = ""
        for word in part.split():
            if line and len(line) + 1 + len(word) > width:
                lines.append(line)
                line = word
            else:
                line = f"{line} {word}" if line else word
        if line:
            lines.append(line)
    return lines[:3]


def _side_labels(
    labels: list[tuple[float, str, str, str]], x: float, top: float, bottom: float
) -> list[str]:
    """Labels right of the plot: (y, text, colour, class), nudged apart so they never overlap."""
    out: list[str] = []
    placed: list[tuple[float, float]] = []
    for y0, text, colour, cls in sorted(labels):
        lines = _wrap(text)
        h = 14 * len(lines)
        y = max(top, min(y0 - h / 2 + 11, bottom - h + 11))
        for a, b in placed:
            if y < b + 4 and y + h > a - 4:
                y = b + 4 + 0
        placed.append((y, y + h))
        spans = "".join(
            f'<tspan x="{_n(x)}" dy="{0 if i == 0 else 14}">{escape(t)}</tspan>'
            for i, t in enumerate(lines)
        )
        out.append(
            f'<text class="{cls}" x="{_n(x)}" y="{_n(y)}" font-size="12" fill="{colour}">'
            f"{spans}</text>"
        )
    return out


def _cutoff_lines(
    m: MeasureDefinition, age: int | None, sex: str | None, conditions: frozenset[str]
) -> list[tuple[float, str]]:
    lines: dict[float, str] = {}
    for c in m.cutoffs:
        if c.kind == "safety":
            continue  # safety limits belong to the session log, not to progress
        if c.condition is not None and c.condition not in conditions:
            continue
        if c.sex is not None and c.sex != sex:
            continue
        if c.age_min is not None and (age is None or age < c.age_min):
            continue
        if c.age_max is not None and (age is None or age > c.age_max):
            continue
        if c.value not in lines:
            short = c.meaning.split(":")[0].split("(")[0].strip()
            lines[c.value] = f"{short}|{_CMP[c.comparison]} {c.value:g} {m.unit}"
    return sorted(lines.items())[:3]


def measure_chart(
    measure: MeasureLike,
    history: Iterable[Any],
    age: Any = None,
    sex: Any = None,
    *,
    conditions: Iterable[str] = (),
    chart_id: str | None = None,
    title: str | None = None,
) -> str:
    """The chart as an ``<svg>`` string. ``history`` items are anything ``outcomes.interpret``
    takes (``(date, value)``, ``Observation`` …); values outside the valid range are dropped.
    ``age``/``sex`` choose the norm band and cut-offs (the client's age now)."""
    m = as_definition(measure)
    obs: list[Observation] = []
    for item in history:
        when, raw, protocol, obs_age = _observation_parts(item)
        try:
            obs.append(Observation(when, float(raw), protocol, obs_age))
        except (TypeError, ValueError):
            continue
    obs = [o for o in obs if math.isfinite(o.value)]
    obs.sort(key=lambda o: o.when)
    a = None if age is None else int(age)
    s = normalise_sex(sex)
    conds = frozenset(conditions)
    cid = _slug(chart_id or f"chart-{m.id}")
    name = title or m.name
    unit = m.unit

    # Norm band (for the client's age now) and cut-off lines.
    band_lo = band_hi = None
    band_text = ""
    if obs:
        nr = norm_band(m, obs[-1].value, a, s) if m.norms else None
        if nr is not None and nr.has_norm:
            band_lo, band_hi = nr.low, nr.high
            # A one-sided published limit is labelled in its source's words (Bohannon 2006:
            # "not slower than average for age"), a range as a normal range.
            head = nr.band.not_worse_words.capitalize() if nr.band and nr.band.worse_words else ""
            band_text = f"{head or 'Normal range'}|{nr.label or band_label(s, a, a)}"
    cutoffs = _cutoff_lines(m, a, s, conds)

    values = [o.value for o in obs]
    extent = values + [v for v, _ in cutoffs]
    extent += [v for v in (band_lo, band_hi) if v is not None]
    if not extent:
        extent = [m.valid_min or 0.0, m.valid_max if m.valid_max is not None else 1.0]
    lo, hi = min(extent), max(extent)
    lo, hi = _widen_to_minimum_span(m, lo, hi, values)
    pad = (hi - lo) * 0.08 or (abs(hi) * 0.1 or 1.0)
    y_lo, y_hi = lo - pad, hi + pad
    if m.valid_min is not None and lo >= m.valid_min:
        y_lo = max(y_lo, m.valid_min)
    if m.valid_max is not None and hi <= m.valid_max:
        y_hi = min(y_hi, m.valid_max)
    ticks = nice_ticks(y_lo, y_hi, whole=m.decimals == 0)
    y_lo, y_hi = min(ticks[0], y_lo), max(ticks[-1], y_hi)

    px0, px1 = LEFT, WIDTH - RIGHT
    py0, py1 = TOP, HEIGHT - BOTTOM

    def y(v: float) -> float:
        return py1 - (v - y_lo) / (y_hi - y_lo) * (py1 - py0)

    if obs:
        d0 = obs[0].when.toordinal()
        span = obs[-1].when.toordinal() - d0

        def x(d: date) -> float:
            if span == 0:
                return (px0 + px1) / 2
            return px0 + 16 + (d.toordinal() - d0) / span * (px1 - px0 - 32)

    direction = DIRECTION_TEXT.get(m.direction, "")
    desc_parts = [f"{name} in {unit}."]
    if direction:
        desc_parts.append(f"{direction}.")
    if obs:
        desc_parts.append(
            "Values: "
            + "; ".join(
                f"{_date_label(o.when, True)} {format_number(o.value, m.decimals)}" for o in obs
            )
            + "."
        )
    else:
        desc_parts.append("No values recorded yet.")
    if band_lo is not None or band_hi is not None:
        desc_parts.append(
            f"{band_text.replace('|', ', ')}: {_tick_label(band_lo) if band_lo is not None else ''}"
            f"–{_tick_label(band_hi) if band_hi is not None else ''} {unit}."
        )
    for _v, label in cutoffs:
        desc_parts.append(f"Cut-off: {label.replace('|', ', ')}.")

    out: list[str] = []
    w = out.append
    w(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'class="measure-chart" role="img" aria-labelledby="{cid}-title {cid}-desc" '
        'preserveAspectRatio="xMidYMid meet" font-family="system-ui, sans-serif" font-size="13">'
    )
    w(f'<title id="{cid}-title">{escape(name)}</title>')
    w(f'<desc id="{cid}-desc">{escape(" ".join(desc_parts))}</desc>')
    w(
        f'<text x="{px0}" y="20" font-size="15" font-weight="600" fill="#111">'
        f"{escape(name)} ({escape(unit)})</text>"
    )
    if direction:
        w(
            f'<text x="{WIDTH - 8}" y="20" text-anchor="end" font-size="13" fill="#333" '
            f'class="direction">{escape(direction)}</text>'
        )
    side: list[tuple[float, str, str, str]] = []
    # Norm band
    if band_lo is not None or band_hi is not None:
        top_v = band_hi if band_hi is not None else y_hi
        bot_v = band_lo if band_lo is not None else y_lo
        w(
            f'<rect class="norm-band" x="{px0}" y="{_n(y(top_v))}" width="{px1 - px0}" '
            f'height="{_n(y(bot_v) - y(top_v))}" fill="#cfe8cf" fill-opacity="0.7"/>'
        )
        side.append(((y(top_v) + y(bot_v)) / 2, band_text, "#245b24", "norm-label"))
    # Axes and y ticks
    w('<g class="y-axis" font-size="12" fill="#333">')
    for t in ticks:
        ty = _n(y(t))
        w(f'<line x1="{px0}" y1="{ty}" x2="{px1}" y2="{ty}" stroke="#ddd" stroke-width="1"/>')
        w(f'<text x="{px0 - 6}" y="{_n(y(t) + 4)}" text-anchor="end">{_tick_label(t)}</text>')
    w(
        f'<text x="14" y="{_n((py0 + py1) / 2)}" text-anchor="middle" '
        f'transform="rotate(-90 14 {_n((py0 + py1) / 2)})">{escape(unit)}</text>'
    )
    w("</g>")
    w(
        f'<line x1="{px0}" y1="{py1}" x2="{px1}" y2="{py1}" stroke="#333" stroke-width="1.5"/>'
        f'<line x1="{px0}" y1="{py0}" x2="{px0}" y2="{py1}" stroke="#333" stroke-width="1.5"/>'
    )
    # Cut-off lines
    for v, label in cutoffs:
        cy = _n(y(v))
        w(
            f'<line class="cutoff" x1="{px0}" y1="{cy}" x2="{px1}" y2="{cy}" '
            'stroke="#b00020" stroke-width="1.5" stroke-dasharray="6 4"/>'
        )
        side.append((y(v), label, "#b00020", "cutoff-label"))
    out.extend(_side_labels(side, px1 + 8, py0 - 8, py1 + 20))
    # Data
    if obs:
        # x ticks: every date when few, otherwise about 6 spread evenly (first and last kept)
        idx = list(range(len(obs)))
        if len(obs) > 6:
            step = (len(obs) - 1) / 5
            idx = sorted({round(i * step) for i in range(6)})
        w('<g class="x-axis" font-size="12" fill="#333">')
        last_year = None
        for i in idx:
            d = obs[i].when
            label = _date_label(d, d.year != last_year)
            last_year = d.year
            w(f'<text x="{_n(x(d))}" y="{py1 + 18}" text-anchor="middle">{escape(label)}</text>')
        w("</g>")
        points = " ".join(f"{_n(x(o.when))},{_n(y(o.value))}" for o in obs)
        if len(obs) > 1:
            w(
                f'<polyline class="series" points="{points}" fill="none" stroke="#1f4e79" '
                'stroke-width="2.5"/>'
            )
        label_all = len(obs) <= 12
        for i, o in enumerate(obs):
            cx, cy = _n(x(o.when)), _n(y(o.value))
            text = format_number(o.value, m.decimals)
            if i == 0:
                w(
                    f'<g class="baseline"><rect x="{_n(x(o.when) - 6)}" y="{_n(y(o.value) - 6)}" '
                    f'width="12" height="12" fill="#fff" stroke="#1f4e79" stroke-width="2.5"/>'
                    f'<text x="{cx}" y="{py1 + 34}" text-anchor="middle" font-size="12" '
                    f'font-weight="600" fill="#1f4e79">Baseline</text></g>'
                )
            else:
                w(f'<circle cx="{cx}" cy="{cy}" r="5" fill="#1f4e79"/>')
            if label_all or i in (0, len(obs) - 1):
                w(
                    f'<text class="value" x="{cx}" y="{_n(y(o.value) - 10)}" '
                    f'text-anchor="middle" font-size="12" fill="#111">{escape(text)}</text>'
                )
    else:
        w(
            f'<text x="{_n((px0 + px1) / 2)}" y="{_n((py0 + py1) / 2)}" text-anchor="middle" '
            'fill="#555">Not assessed yet</text>'
        )
    w("</svg>")
    return "".join(out)


def chart_for_row(
    row: ReportRow,
    measure: MeasureLike | None = None,
    age: Any = None,
    sex: Any = None,
    *,
    conditions: Iterable[str] = (),
    chart_id: str | None = None,
) -> str:
    """The chart of a report row's history (``measure`` is needed for custom measures)."""
    return measure_chart(
        measure if measure is not None else row.measure_id,
        row.history,
        age,
        sex,
        conditions=conditions,
        chart_id=chart_id,
    )
