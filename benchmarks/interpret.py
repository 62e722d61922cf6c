"""Outcome interpretation timings under CPython (the Chromium/Pyodide figure comes later).

    python benchmarks/interpret.py [--runs 20] [--assessments 30]

A 72-year-old woman with N assessments of 20 measures each (values drifting over time).
Figures (median of runs, milliseconds):
  - interpret: ``interpret_assessment`` of the latest assessment against the whole history
    (20 report rows: norms, flags, change vs MDC/MCID);
  - interpret+charts: the same plus one SVG chart per measure;
  - criteria: ``discharge_criteria_status`` of the post-TKR program on those rows.
Target from issue 4 (in Pyodide): interpreting 20 measures for a client with 30 assessments
≤ 20 ms. Pyodide runs pure Python several times slower than CPython.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "site" / "py"))

from medex.assessments import Assessment, interpret_assessment  # noqa: E402
from medex.charts import chart_for_row  # noqa: E402
from medex.programs import Episode, default_program, discharge_criteria_status  # noqa: E402

# 20 measures with plausible values (start, change per assessment).
MEASURES = {
    "chair_stand_30s": (8, 0.2),
    "five_times_sts": (16.0, -0.15),
    "tug": (14.0, -0.12),
    "up_and_go_8ft": (8.0, -0.08),
    "step_test_2min": (60, 1.5),
    "gait_speed": (0.8, 0.01),
    "six_minute_walk": (300, 5),
    "four_stage_balance": (2, 0.05),
    "single_leg_stance": (4.0, 0.3),
    "berg_balance": (40, 0.4),
    "grip_strength": (15.0, 0.2),
    "arm_curl": (9, 0.2),
    "back_scratch": (-4.0, 0.1),
    "chair_sit_and_reach": (-2.0, 0.1),
    "psfs": (3.0, 0.15),
    "lefs": (30, 1),
    "oswestry": (40.0, -0.8),
    "nprs": (7, -0.15),
    "waist_circumference": (95.0, -0.2),
    "bmi": (31.0, -0.05),
}
DOB = date(1952, 8, 1)


def _value(mid: str, start: float, step: float, i: int) -> float:
    v = start + step * i
    if mid in ("chair_stand_30s", "step_test_2min", "six_minute_walk", "berg_balance"):
        return float(round(v))
    if mid in ("four_stage_balance", "arm_curl", "lefs", "nprs"):
        return float(min(round(v), 4 if mid == "four_stage_balance" else 10**6))
    return round(v, 1 if mid != "gait_speed" else 2)


def history(n: int) -> list[Assessment]:
    out = []
    t0 = datetime(2023, 1, 2, tzinfo=UTC)
    for i in range(n):
        day = date(2023, 1, 2) + timedelta(days=21 * i)
        doc = {
            "client_id": "c1",
            "kind": "baseline" if i == 0 else "reassessment",
            "assessed_on": day.isoformat(),
            "created_at": (t0 + timedelta(days=21 * i)).isoformat(),
            "vitals": {"resting_hr": 72, "systolic": 128, "diastolic": 78},
            "measurements": [
                {"measure_id": mid, "value": _value(mid, s, d, i)}
                for mid, (s, d) in MEASURES.items()
            ],
        }
        out.append(Assessment.model_validate(doc, context={"today": date(2026, 1, 1)}))
    return out


def timed(fn, runs: int) -> float:
    samples = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t) * 1000)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--assessments", type=int, default=30)
    args = parser.parse_args()
    hist = history(args.assessments)
    latest = hist[-1]
    tkr = default_program("post_tkr")
    episode = Episode(client_id="c1", program=tkr.snapshot(), start_date=date(2023, 1, 2))

    def interpret_only():
        return interpret_assessment(latest, hist, 72, "female", date_of_birth=DOB)

    rows = interpret_only()
    assert len(rows) == 23  # 20 measures + 3 vitals

    def with_charts():
        for row in interpret_only():
            chart_for_row(row, age=72, sex="female")

    where = "Pyodide" if sys.platform == "emscripten" else "CPython"
    print(f"{args.assessments} assessments × {len(MEASURES)} measures (+3 vitals), {where}")
    print(f"  interpret        {timed(interpret_only, args.runs):7.2f} ms")
    print(f"  interpret+charts {timed(with_charts, args.runs):7.2f} ms")
    crit = timed(lambda: discharge_criteria_status(episode, rows, 72, "female"), args.runs)
    print(f"  criteria         {crit:7.2f} ms")


if __name__ == "__main__":
    main()
