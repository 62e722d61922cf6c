"""Progress report timings: gather the records, build the view-model, render the HTML.

    python benchmarks/report.py [--runs 20] [--sessions 100] [--assessments 6]
    python benchmarks/in_pyodide.py report.py          (the same inside the app's Pyodide)

A 72-year-old woman on the post-TKR program with N session logs (6 exercises each, pre/post
vitals, every 10th session cancelled, one with a blood-pressure stop) and M assessments of the
program's measures, in the in-memory repository. Figures (median of runs, milliseconds):
  - gather: ``services.documents.gather`` (records, outcome rows, discharge criteria, charts);
  - view-model: ``documents.view_model``;
  - render: the ``reports/progress_report.html`` template (jinja2);
  - total: the three together, what the Progress report screen does for its preview.
Target from issue 6 (in Chromium): the progress report for a client with 100 sessions and 6
assessments rendered in ≤ 300 ms. Pyodide runs pure Python several times slower than CPython.
No file I/O beyond the app's own template loader; imports only medex, app and the stdlib.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import date, timedelta
from datetime import time as clock
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "site" / "py"))

from app.render import render  # noqa: E402
from medex.assessments import Assessment  # noqa: E402
from medex.documents import DocKind, view_model  # noqa: E402
from medex.exercises import starter_library  # noqa: E402
from medex.health import HealthHistory  # noqa: E402
from medex.intake import Client, Goals, Referral, ReferringProvider  # noqa: E402
from medex.programs import Episode, Payment, default_program  # noqa: E402
from medex.records import PracticeProfile  # noqa: E402
from medex.repository import InMemoryRepository  # noqa: E402
from medex.safety import BpPosition, Timing, Vitals  # noqa: E402
from medex.services.documents import gather  # noqa: E402
from medex.session_logs import Attendance, ExerciseEntry, SessionLog, compute_flags  # noqa: E402

START = date(2025, 1, 6)
TARGET_MS = 300


def run(coro):
    """Drive a coroutine that never waits (the in-memory repository) to completion."""
    try:
        coro.send(None)
    except StopIteration as stop:
        return stop.value
    coro.close()
    raise RuntimeError("waited on real I/O")


def seed(repo: InMemoryRepository, sessions: int, assessments: int) -> tuple[str, date]:
    """The client's whole record; returns (client id, today)."""
    today = START + timedelta(days=(sessions * 7) // 2 + 1)
    profile = PracticeProfile(
        practitioner_name="Dana Reyes",
        credentials="MS, ACSM-CEP",
        business_name="Reyes Medical Exercise",
        address="12 Elm Street\nSpringfield, IL 62701",
        phone="(555) 123-4567",
        email="dana@example.com",
    )
    provider = ReferringProvider(name="Dr. Maria Chen", credentials="MD", fax="(555) 987-6543")
    client = Client(
        first_name="Ann",
        last_name="Lee",
        date_of_birth=date(1952, 8, 1),
        sex="female",
        provider_id=provider.id,
        status="active",
    )
    referral = Referral(
        client_id=client.id,
        provider_id=provider.id,
        referred_on=START - timedelta(days=10),
        diagnoses=[
            {"code": "Z96.651", "description": "Presence of right artificial knee joint"},
            {"code": "M17.11", "description": "Unilateral primary osteoarthritis, right knee"},
        ],
        reason="Post-PT reconditioning after right TKR",
        requested_frequency="2 sessions a week",
        physician_follow_up=today + timedelta(days=20),
    )
    history = HealthHistory(
        client_id=client.id,
        conditions=[{"name": "Hypertension"}],
        medications=[{"name": "Metoprolol", "dose": "25 mg", "frequency": "daily"}],
    )
    goals = Goals(
        client_id=client.id,
        recorded_on=START,
        activities=[
            {"activity": "Climb the stairs at home", "score": 4},
            {"activity": "Walk to the shops", "score": 5},
            {"activity": "Get up from a low chair", "score": 3},
        ],
    )
    program = default_program("post_tkr")
    episode = Episode.model_validate(
        {
            "client_id": client.id,
            "program_id": program.id,
            "program": program.snapshot().model_dump(),
            "start_date": START,
            "payments": [Payment(paid_on=START, amount_cents=45000).model_dump()],
        },
        context={"today": today},
    )
    records: list = [profile, provider, client, referral, history, goals, episode]
    span = max((today - START).days - 1, 1)
    for i in range(assessments):
        step = i / max(assessments - 1, 1)
        doc = {
            "client_id": client.id,
            "episode_id": episode.id,
            "kind": "baseline" if i == 0 else "reassessment",
            "assessed_on": (START + timedelta(days=round(span * step))).isoformat(),
            "vitals": {"resting_hr": 70, "systolic": 130, "diastolic": 80},
            "measurements": [
                {"measure_id": "tug", "value": round(14.2 - 5 * step, 1)},
                {"measure_id": "chair_stand_30s", "value": 8 + round(6 * step)},
                {"measure_id": "gait_speed", "value": round(0.78 + 0.4 * step, 2)},
                {"measure_id": "lefs", "value": 38 + round(22 * step)},
            ],
        }
        ctx = {"today": today, "date_of_birth": client.date_of_birth}
        records.append(Assessment.model_validate(doc, context=ctx))
    lib = starter_library()
    for i in range(sessions):
        cancelled = i % 10 == 3
        high = i == sessions // 2
        log = SessionLog(
            client_id=client.id,
            episode_id=episode.id,
            session_date=START + timedelta(days=(i * 7) // 2),
            start_time=clock(10, 0),
            session_number=i + 1,
            attendance=Attendance.CANCELLED if cancelled else Attendance.ATTENDED,
            attendance_reason="Client unwell" if cancelled else "",
            pre_vitals=None
            if cancelled
            else Vitals(
                timing=Timing.PRE,
                heart_rate_bpm=68,
                systolic_mmhg=205 if high else 128,
                diastolic_mmhg=92 if high else 78,
                bp_position=BpPosition.SEATED,
            ),
            post_vitals=None
            if cancelled
            else Vitals(
                timing=Timing.POST, heart_rate_bpm=92, systolic_mmhg=136, diastolic_mmhg=80
            ),
            pain=None if cancelled else 2,
            exercises=[]
            if cancelled
            else [
                ExerciseEntry(exercise_id=ex.id, exercise_name=ex.name, sets=2, reps=10)
                for ex in lib[:6]
            ],
            action_taken="Session stopped; client advised to call Dr. Chen" if high else "",
        )
        records.append(log.model_copy(update={"safety_flags": compute_flags(log)}))
    run(repo.save(*records))
    return client.id, today


def timed(fn, runs: int) -> tuple[float, object]:
    samples, result = [], None
    for _ in range(runs):
        t = time.perf_counter()
        result = fn()
        samples.append((time.perf_counter() - t) * 1000)
    return statistics.median(samples), result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--sessions", type=int, default=100)
    parser.add_argument("--assessments", type=int, default=6)
    args = parser.parse_args()
    repo = InMemoryRepository()
    client_id, today = seed(repo, args.sessions, args.assessments)

    def gathered():
        return run(gather(repo, DocKind.PROGRESS_REPORT, today, client_id=client_id))

    inp = gathered()
    vm = view_model(inp)
    html = render("reports/progress_report.html", doc=vm)  # warm: template compiled once
    assert "Timed Up and Go" in html and vm["attendance"]["scheduled"] == args.sessions

    def total():
        v = view_model(gathered())
        return render("reports/progress_report.html", doc=v)

    where = "Pyodide" if sys.platform == "emscripten" else "CPython"
    print(
        f"Progress report: {args.sessions} session logs, {args.assessments} assessments "
        f"({len(vm['measures'])} measure rows, {len(vm['charts'])} charts), {where}"
    )
    t_gather, _ = timed(gathered, args.runs)
    t_vm, _ = timed(lambda: view_model(inp), args.runs)
    t_render, _ = timed(lambda: render("reports/progress_report.html", doc=vm), args.runs)
    t_total, out = timed(total, args.runs)
    print(f"  gather      {t_gather:7.2f} ms")
    print(f"  view-model  {t_vm:7.2f} ms")
    print(f"  render      {t_render:7.2f} ms")
    print(f"  total       {t_total:7.2f} ms  (target in the browser: ≤ {TARGET_MS} ms)")
    print(f"  HTML        {len(str(out)) / 1000:7.1f} kB")


if __name__ == "__main__":
    main()
