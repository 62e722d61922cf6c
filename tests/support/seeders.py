"""Data for the tests, the benchmarks and the tools: one place that knows what a typical
practice looks like.

- ``GOOD``: the practice-profile form as the first run fills it in;
- ``FIXTURE``: a small ICD-10-CM index in the built format (the full index never ships to tests);
- ``seed_typical_client``: the typical client (the demo practice's post-TKR client,
  ``medex.demo``), saved at fixed dates (the e2e tests seed the browser with it too);
- ``seed_demo_practice``: the whole demo practice (``medex.demo.build_demo_practice``);
- ``seed_report_client``: the progress-report benchmark's client, N sessions and M assessments;
- ``add_provider``, ``add_client``, ``full_intake``: intake driven through the app's screens
  (``app.dispatch``), for the screen tests;
- ``repo_with_client``, ``screened``, ``draft``: a screened client (``CLIENT``) and a session-log
  draft, for the session-log service and signature tests.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from medex import demo
from medex.assessments import Assessment
from medex.exercises import starter_library
from medex.health import HealthHistory
from medex.intake import Client, Goals, Referral, ReferringProvider
from medex.programs import Episode, Payment, default_program
from medex.records import PracticeProfile
from medex.repository import InMemoryRepository
from medex.safety import BpPosition, Timing, Vitals
from medex.screening import PARQ_PAGE1_LABELS, AcsmScreeningInputs, Intensity, ScreeningRecord
from medex.services.outcomes import (
    RecordAssessment,
    StartEpisode,
    record_assessment,
    start_episode,
)
from medex.session_logs import Attendance, ExerciseEntry, SessionLog, compute_flags

from .aio import run

TODAY = date(2025, 3, 20)
FIRST = date(2025, 1, 6)
CLIENT = "8a3f0c1e-2b4d-4e6f-8a1b-3c5d7e9f1a2b"  # the session-log services' client
T0 = datetime(2025, 3, 10, 15, 0, tzinfo=UTC)

# -- the practice profile and the ICD-10 index -----------------------------------------------

GOOD = {
    "practitioner_name": "Dana Reyes",
    "credentials": "MS",
    "business_name": "Reyes Medical Exercise",
    "address": "",
    "phone": "",
    "email": "dana@example.com",
    "npi": "",
}

FIXTURE_LINES = [
    "C8410\t1\tSézary disease, unspecified site",
    "D519\t1\tVitamin B12 deficiency anemia, unspecified",
    "E11\t0\tType 2 diabetes mellitus",
    "E1165\t1\tType 2 diabetes mellitus with hyperglycemia",
    "E119\t1\tType 2 diabetes mellitus without complications",
    "G301\t1\tAlzheimer's disease with late onset",
    "G309\t1\tAlzheimer's disease, unspecified",
    "I10\t1\tEssential (primary) hypertension",
    "I1A0\t1\tResistant hypertension",
    "K766\t1\tPortal hypertension",
    "M17\t0\tOsteoarthritis of knee",
    "M170\t1\tBilateral primary osteoarthritis of knee",
    "M171\t0\tUnilateral primary osteoarthritis of knee",
    "M1710\t1\tUnilateral primary osteoarthritis, unspecified knee",
    "M1711\t1\tUnilateral primary osteoarthritis, right knee",
    "M1712\t1\tUnilateral primary osteoarthritis, left knee",
    "M173\t0\tUnilateral post-traumatic osteoarthritis of knee",
    "M1731\t1\tUnilateral post-traumatic osteoarthritis, right knee",
    "QA0\t0\tNeurodevelopmental disorders related to specific genetic pathogenic variants",
    "QA00101\t1\tSCN2A-related neurodevelopmental disorder",
    "S72001\t0\tFracture of unspecified part of neck of right femur",
    "S72001A\t1\tFracture of unspecified part of neck of right femur, initial encounter for closed fracture",
    "Z9665\t0\tPresence of artificial knee joint",
    "Z96651\t1\tPresence of right artificial knee joint",
]
FIXTURE = "ICD10CM\t1\ttest fixture (ICD-10-CM April-1-2026)\n" + "\n".join(FIXTURE_LINES) + "\n"


# -- a typical client (also used by the e2e tests to seed the browser) ---------------------


# The realistic battery (``seed_typical_client(full=True)``): 10 measures, 4 goals, 4 deficits,
# what a one-page document must hold. Six more measures at baseline and each reassessment: two
# change beyond their MCID (6MWT +90 m ≥ 20 m; NPRS −3 ≥ 2), the others do not.
FULL_MEASURES = (
    "six_minute_walk",
    "nprs",
    "five_times_sts",
    "grip_strength",
    "arm_curl",
    "resting_hr",
)
FULL_VALUES = [
    (320, 6, 16.5, 18, 11, 72),
    (365, 4, 15.1, 18.5, 12, 70),
    (410, 3, 14.2, 19, 13, 70),
    (420, 3, 13.9, 19.5, 13, 69),
    (425, 2, 13.5, 19.5, 14, 68),
    (430, 2, 13.2, 20, 14, 68),
]
FULL_GOALS = [("Kneel in the garden", 2)]
FULL_DEFICITS = ["Poor single-leg balance", "Low walking endurance"]


def seed_typical_client(
    repo,
    today=TODAY,
    *,
    sessions=12,
    assessments=3,
    name=("Ann", "Lee"),
    client_id=None,
    full=False,
):
    """A 72-year-old woman after a total knee replacement: referral with ICD-10 codes, health
    history, goals, the post-TKR program with a payment, baseline + reassessments, attended
    sessions (one cancelled, one with high blood pressure). ``full``: the realistic battery of
    10 measures, 4 goals and 4 deficits (``FULL_*``). Returns (client, provider, episode)."""
    # The demo practice's post-TKR client (medex.demo), saved directly at fixed dates.
    profile = PracticeProfile(**demo.PROFILE)
    provider = ReferringProvider(**demo.PROVIDERS["chen"])
    client = Client(
        **{**demo.TKR_CLIENT, "first_name": name[0], "last_name": name[1]},
        provider_id=provider.id,
        status="active",
        **({"id": client_id} if client_id else {}),
    )
    referral = Referral(
        client_id=client.id,
        provider_id=provider.id,
        referred_on=FIRST - timedelta(days=10),
        diagnoses=demo.TKR_DIAGNOSES,
        **demo.TKR_REFERRAL,
        physician_follow_up=FIRST + timedelta(days=90),
    )
    history = HealthHistory(client_id=client.id, **demo.TKR_HISTORY)
    goals = Goals(
        client_id=client.id,
        recorded_on=FIRST,
        activities=[
            {"activity": a, "score": n} for a, n in [*demo.TKR_GOALS, *(FULL_GOALS if full else [])]
        ],
        deficits=[*demo.TKR_DEFICITS, *(FULL_DEFICITS if full else [])],
    )
    run(repo.save(profile, provider, client, referral, history, goals))
    ep = run(
        start_episode(
            repo,
            StartEpisode(
                client_id=client.id,
                today=today,
                program_id=default_program("post_tkr").id,
                start_date=FIRST.isoformat(),
            ),
        )
    )
    for i in range(assessments):
        data = {
            "client_id": client.id,
            "episode_id": ep.id,
            "kind": "baseline" if i == 0 else "reassessment",
            "assessed_on": (FIRST + timedelta(days=i * 30)).isoformat(),
            "measurements": [
                {"measure_id": m, "value": v}
                for m, v in zip(demo.TKR_MEASURES, demo.TKR_VALUES[i], strict=True)
            ]
            + [
                {"measure_id": m, "value": v}
                for m, v in zip(FULL_MEASURES, FULL_VALUES[i], strict=True)
                if full
            ],
        }
        run(record_assessment(repo, RecordAssessment(**data, today=today)))
    lib = starter_library()
    logs = []
    for i in range(sessions):
        day = FIRST + timedelta(days=(i * 7) // 2)
        high = i == 5
        log = SessionLog(
            client_id=client.id,
            episode_id=ep.id,
            session_date=day,
            start_time=time(10, 0),
            session_number=i + 1,
            attendance=Attendance.CANCELLED if i == 3 else Attendance.ATTENDED,
            attendance_reason="Client unwell" if i == 3 else "",
            pre_vitals=None
            if i == 3
            else Vitals(
                timing=Timing.PRE,
                heart_rate_bpm=68,
                systolic_mmhg=205 if high else 128,
                diastolic_mmhg=92 if high else 78,
                bp_position=BpPosition.SEATED,
            ),
            pain=None if i == 3 else 2,
            exercises=(
                []
                if i == 3
                else [
                    ExerciseEntry(
                        exercise_id=lib[0].id, exercise_name="Sit-to-stand", sets=2, reps=10
                    ),
                    ExerciseEntry(
                        exercise_id=lib[5].id,
                        exercise_name="Band row",
                        sets=2,
                        reps=12,
                        load=4,
                        load_unit="kg",
                    ),
                ]
            ),
            action_taken="Session stopped; client advised to call Dr. Chen" if high else "",
        )
        logs.append(log.model_copy(update={"safety_flags": compute_flags(log)}))
    run(repo.save(*logs))
    paid = ep.model_copy(
        update={"payments": [Payment(paid_on=FIRST, amount_cents=45000, method="hsa_fsa")]}
    )
    run(repo.save(paid))
    return client, provider, paid


def seed_report_client(
    repo: InMemoryRepository, sessions: int, assessments: int
) -> tuple[str, date]:
    """The progress-report benchmark's client (benchmarks/report.py): a 72-year-old woman on the
    post-TKR program with ``sessions`` session logs (6 exercises each, pre/post vitals, every 10th
    cancelled, one with a blood-pressure stop) and ``assessments`` assessments of the program's
    measures, saved directly (no services). Returns (client id, today)."""
    today = FIRST + timedelta(days=(sessions * 7) // 2 + 1)
    profile = PracticeProfile(**demo.PROFILE)
    provider = ReferringProvider(**demo.PROVIDERS["chen"])
    client = Client(**demo.TKR_CLIENT, provider_id=provider.id, status="active")
    referral = Referral(
        client_id=client.id,
        provider_id=provider.id,
        referred_on=FIRST - timedelta(days=10),
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
        recorded_on=FIRST,
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
            "start_date": FIRST,
            "payments": [Payment(paid_on=FIRST, amount_cents=45000).model_dump()],
        },
        context={"today": today},
    )
    records: list = [profile, provider, client, referral, history, goals, episode]
    span = max((today - FIRST).days - 1, 1)
    for i in range(assessments):
        step = i / max(assessments - 1, 1)
        doc = {
            "client_id": client.id,
            "episode_id": episode.id,
            "kind": "baseline" if i == 0 else "reassessment",
            "assessed_on": (FIRST + timedelta(days=round(span * step))).isoformat(),
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
            session_date=FIRST + timedelta(days=(i * 7) // 2),
            start_time=time(10, 0),
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


# -- intake through the screens ------------------------------------------------------------


def add_provider(app, **extra):
    run(app.dispatch("save-provider", {"name": "Maria Chen", "credentials": "MD", **extra}))
    return run(app.repo.list(ReferringProvider))[-1]


def add_client(app, **extra):
    data = {
        "client_id": "",
        "first_name": "Ana",
        "last_name": "López",
        "date_of_birth": "1958-03-10",
        "sex": "female",
        **extra,
    }
    run(app.dispatch("save-client", data))
    return run(app.repo.list(Client))[-1]


def full_intake(app):
    provider = add_provider(app)
    client = add_client(app)
    for code in ("M17.11", "E11.9"):
        run(app.dispatch("referral-form", {"client_id": client.id, "add_code": code}))
    run(
        app.dispatch(
            "referral-form",
            {
                "client_id": client.id,
                "provider_id": provider.id,
                "referred_on": "2026-03-01",
                "reason": "Knee OA, deconditioning",
                "requested_frequency": "2 a week",
                "requested_duration": "8 weeks",
            },
        )
    )
    run(
        app.dispatch(
            "save-history",
            {
                "client_id": client.id,
                "cond_name_0": "Type 2 diabetes",
                "cond_icd10_0": "E11.9",
                "surg_name_0": "Arthroscopy right knee",
                "surg_performed_on_0": "2019-05-02",
                "med_name_0": "Metoprolol",
                "med_dose_0": "25 mg",
                "med_name_1": "Metformin",
            },
        )
    )
    form = {f"parq_{k}": "no" for k in PARQ_PAGE1_LABELS}
    form.update(
        client_id=client.id,
        parq_heart_condition_or_high_bp="yes",
        parq_follow_up="no",
        acsm_exercises_regularly="no",
        acsm_known_cmr_disease="yes",
        acsm_has_diabetes="1",
        acsm_symptomatic="no",
        acsm_desired_intensity="moderate",
        screened_on="2026-03-02",  # a clearance received after it counts
    )
    run(app.dispatch("save-screening", form))
    return provider, client


# -- a screened client for the session-log services (no Client record: only its id) -------


def screened(repo, needs_clearance: bool, has_diabetes=False):
    inputs = AcsmScreeningInputs(
        exercises_regularly=False,
        known_cmr_disease=needs_clearance or has_diabetes,
        has_diabetes=has_diabetes,
        symptomatic=False,
        desired_intensity=Intensity.MODERATE,
    )
    run(repo.save(ScreeningRecord(client_id=CLIENT, screened_on=date(2025, 2, 1), acsm=inputs)))


def repo_with_client(needs_clearance=False) -> InMemoryRepository:
    repo = InMemoryRepository()
    screened(repo, needs_clearance)
    run(
        repo.save(
            PracticeProfile(
                practitioner_name="Dana Reyes", credentials="MS, ACSM-CEP", business_name="Reyes"
            )
        )
    )
    repo.writes = 0
    return repo


def draft(day=10, **kw) -> SessionLog:
    data = dict(
        client_id=CLIENT,
        session_date=date(2025, 3, day),
        start_time=time(10, 0),
        pre_vitals=Vitals(
            timing=Timing.PRE,
            heart_rate_bpm=70,
            systolic_mmhg=126,
            diastolic_mmhg=80,
            bp_position=BpPosition.SEATED,
        ),
        pain=1,
        exercises=[
            ExerciseEntry(
                exercise_id=starter_library()[0].id, exercise_name="Sit-to-stand", sets=2, reps=10
            ),
            ExerciseEntry(
                exercise_id=starter_library()[5].id,
                exercise_name="Band row",
                sets=2,
                reps=12,
                load=4,
                load_unit="kg",
            ),
        ],
        created_at=T0,
        updated_at=T0,
    )
    data.update(kw)
    return SessionLog(**data)


# -- the demo practice (the same seed the app's "Try it with a demo practice" builds) --------


def seed_demo_practice(repo, today=TODAY, signer=None, render_document=None):
    """The demo practice of the app's first run, dated relative to ``today``."""
    return run(
        demo.build_demo_practice(repo, today, signer=signer, render_document=render_document)
    )
