"""The demo practice: one small, realistic practice that a newcomer can open to see every
screen and report with real-looking content, and that the tests and benchmarks build too.

Five clients in different programs (post total knee replacement, falls prevention, type 2
diabetes, Parkinson's disease, and a new COPD referral outside the practice's programs),
referred by three physicians, with twelve weeks of assessments, signed session logs and
documents sent and acknowledged. Every date is fixed relative to ``today``, so the demo always
looks current: one client missed their last two sessions (a cancellation, then a no-show), one
has not been seen for 17 days, one session log waits to be signed, one referral waits for the
focus decision.

Each client on a program has a plan of sessions (a weekly pattern saved through the schedule's
use case), and the session logs fall on the plan's dates: the schedule shows the attended
sessions of the past with their signed logs, and three clients on today's list.

Everything is built through the services' use cases (the same validation as the screens);
documents are rendered by the caller (``render_document(view_model) -> html``: rendering is the
app's job) and session logs are signed with the device's practice key when a ``signer`` is
given. ``DEMO_META_KEY`` marks the database as the demo's.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from .demo_marker import DEMO_META_KEY
from .documents import DocKind, view_model
from .exercises import Exercise, starter_library
from .home_programs import new_row
from .intake import Client, ConsentKind, ReferringProvider
from .programs import default_program
from .repository import InMemoryRepository, Repository
from .revisions import audit_action
from .safety import BpPosition, Timing, Vitals
from .schedule import SessionPlan, plan_end, planned_sessions
from .services import documents as documents_service
from .services import home_programs, intake
from .services.outcomes import (
    RecordAssessment,
    RecordPayment,
    StartEpisode,
    record_assessment,
    record_payment,
    start_episode,
)
from .services.practice import SaveProfile, save_practice_profile
from .services.schedule import SavePlan, TypedSlot, save_plan
from .services.sessions import load_clearance_context, save_draft_log, sign_session_log
from .session_logs import Attendance, ExerciseEntry, SessionLog, sign_log, sign_with_key
from .signing import Signer
from .stores import DERIVED_STORES

# -- the practice and its referral partners ------------------------------------------------------

PROFILE = {
    "practitioner_name": "Dana Reyes",
    "credentials": "MS, ACSM-CEP",
    "business_name": "Reyes Medical Exercise",
    "address": "12 Elm Street\nSpringfield, IL 62701",
    "phone": "(555) 123-4567",
    "email": "dana@example.com",
    "npi": "1234567893",
}

PROVIDERS: dict[str, dict[str, str]] = {
    "chen": {
        "name": "Dr. Maria Chen",
        "credentials": "MD",
        "practice": "Springfield Orthopaedics",
        "fax": "(555) 987-6543",
    },
    "okafor": {
        "name": "Dr. Samuel Okafor",
        "credentials": "MD",
        "practice": "Lakeside Family Medicine",
        "fax": "(555) 310-2201",
        "phone": "(555) 310-2200",
    },
    "natarajan": {
        "name": "Dr. Priya Natarajan",
        "credentials": "MD",
        "practice": "Springfield Neurology Associates",
        "fax": "(555) 442-7719",
        "email": "referrals@springfieldneuro.example",
    },
}

# The post-TKR client (also the tests' typical client, tests/support/seeders.py).
TKR_CLIENT = {
    "first_name": "Ann",
    "last_name": "Lee",
    "date_of_birth": "1952-08-01",
    "sex": "female",
}
TKR_DIAGNOSES = [
    {"code": "Z96.651", "description": "Presence of right artificial knee joint"},
    {"code": "M17.11", "description": "Unilateral primary osteoarthritis, right knee"},
]
TKR_REFERRAL = {
    "reason": "Post-PT reconditioning after right TKR",
    "precautions": "No kneeling; no impact loading",
    "requested_frequency": "2 sessions a week",
    "requested_duration": "12 weeks",
}
TKR_HISTORY = {
    "conditions": [{"name": "Hypertension"}],
    "surgeries": [{"name": "Right total knee replacement", "performed_on": "2024-10-01"}],
    "medications": [{"name": "Metoprolol", "dose": "25 mg", "frequency": "daily"}],
}
TKR_GOALS = [
    ("Climb the stairs at home", 4),
    ("Walk to the shops", 5),
    ("Get up from a low chair", 3),
]
TKR_DEFICITS = ["Reduced knee strength", "Slow gait"]
# (TUG s, 30-s chair stands, gait speed m/s, LEFS) at baseline and each reassessment.
TKR_VALUES = [(14.2, 8, 0.78, 38), (12.1, 10, 0.92, 45), (10.4, 12, 1.05, 52)]
TKR_VALUES += [(9.8, 13, 1.1, 56), (9.5, 13, 1.12, 58), (9.2, 14, 1.15, 60)]
TKR_MEASURES = ("tug", "chair_stand_30s", "gait_speed", "lefs")


@dataclass(frozen=True)
class DemoClient:
    """One client of the demo: who, the referral, the program, and how the weeks went."""

    key: str
    person: dict[str, str]
    provider: str  # key of PROVIDERS
    diagnoses: list[dict[str, str]]
    referral: dict[str, str]
    referred_days_ago: int
    history: dict[str, Any]
    goals: list[tuple[str, int]]
    deficits: list[str]
    program: str | None  # default program key; None: intake not finished
    started_days_ago: int = 0
    # Assessments: (days ago, {measure: value}); the first is the baseline.
    assessments: list[tuple[int, dict[str, float]]] = field(default_factory=list)
    # The weekly plan: its weekdays as days before ``today`` (0: today's weekday, 4: the
    # weekday four days ago...), at ``plan_time``, to the program's end plus ``extra_weeks``.
    plan_days: tuple[int, ...] = ()
    plan_time: str = "09:00"
    extra_weeks: int = 0
    # Sessions on the plan's dates from the start until ``last_session_days_ago``.
    last_session_days_ago: int = 0
    missed_days_ago: tuple[int, ...] = ()  # sessions cancelled (the client called)
    no_show_days_ago: tuple[int, ...] = ()  # sessions missed without a word
    unsigned_days_ago: tuple[int, ...] = ()  # logged but not yet signed
    documents: list[tuple[DocKind, int, int | None]] = field(default_factory=list)
    # (kind, sent days ago, acknowledged days ago or None)
    paid_cents: int = 0  # paid at the program's start (the package: PROGRAM_PRICE_CENTS)
    needs_clearance: bool = False


def _tkr_assessments() -> list[tuple[int, dict[str, float]]]:
    days = (84, 42, 2)
    return [(d, dict(zip(TKR_MEASURES, TKR_VALUES[i], strict=True))) for i, d in enumerate(days)]


CLIENTS: tuple[DemoClient, ...] = (
    DemoClient(
        key="tkr",
        person=TKR_CLIENT,
        provider="chen",
        diagnoses=TKR_DIAGNOSES,
        referral=TKR_REFERRAL,
        referred_days_ago=94,
        history=TKR_HISTORY,
        goals=TKR_GOALS,
        deficits=TKR_DEFICITS,
        program="post_tkr",
        started_days_ago=84,
        assessments=_tkr_assessments(),
        plan_days=(0, 2),
        plan_time="09:00",
        extra_weeks=4,  # continued after the 12-week progress report
        last_session_days_ago=2,
        missed_days_ago=(56,),
        documents=[
            (DocKind.INTRO_LETTER, 84, 81),
            (DocKind.ASSESSMENT_SUMMARY, 82, 78),
            (DocKind.PROGRESS_REPORT, 41, 36),
            (DocKind.PROGRESS_REPORT, 10, 6),
        ],
        paid_cents=45000,
    ),
    DemoClient(
        key="falls",
        person={
            "first_name": "Robert",
            "last_name": "Hughes",
            "date_of_birth": "1946-02-14",
            "sex": "male",
            "phone": "(555) 201-7788",
        },
        provider="okafor",
        diagnoses=[
            {"code": "R26.81", "description": "Unsteadiness on feet"},
            {"code": "Z91.81", "description": "History of falling"},
        ],
        referral={
            "reason": "Two falls at home in six months; balance and leg strength",
            "precautions": "Walks with a cane outdoors; supervise balance work",
            "requested_frequency": "2 sessions a week",
            "requested_duration": "12 weeks",
        },
        referred_days_ago=62,
        history={
            "conditions": [{"name": "Osteoarthritis of both hips"}],
            "medications": [{"name": "Amlodipine", "dose": "5 mg", "frequency": "daily"}],
        },
        goals=[
            ("Walk to church without my cane", 3),
            ("Get up after a fall", 2),
            ("Step into the bath", 4),
        ],
        deficits=["Impaired balance", "Reduced lower-limb strength"],
        program="falls_prevention",
        started_days_ago=56,
        assessments=[
            (56, {"tug": 15.8, "chair_stand_30s": 8, "gait_speed": 0.72}),
            (14, {"tug": 13.1, "chair_stand_30s": 10, "gait_speed": 0.84}),
        ],
        plan_days=(0, 3),
        plan_time="10:30",
        last_session_days_ago=3,
        missed_days_ago=(7,),
        no_show_days_ago=(3,),
        documents=[
            (DocKind.INTRO_LETTER, 56, 52),
            (DocKind.ASSESSMENT_SUMMARY, 54, 50),
            (DocKind.PROGRESS_REPORT, 24, 20),
        ],
        paid_cents=20000,
    ),
    DemoClient(
        key="diabetes",
        person={
            "first_name": "Linda",
            "last_name": "Park",
            "date_of_birth": "1964-11-03",
            "sex": "female",
            "email": "linda.park@example.com",
        },
        provider="okafor",
        diagnoses=[
            {"code": "E11.65", "description": "Type 2 diabetes mellitus with hyperglycemia"}
        ],
        referral={
            "reason": "Newly on metformin; supervised aerobic and resistance training",
            "precautions": "Check blood glucose before sessions",
            "requested_frequency": "3 sessions a week",
            "requested_duration": "12 weeks",
        },
        referred_days_ago=76,
        history={
            "conditions": [{"name": "Type 2 diabetes", "icd10": "E11.65"}],
            "medications": [{"name": "Metformin", "dose": "500 mg", "frequency": "twice daily"}],
        },
        goals=[
            ("Walk 30 minutes without stopping", 4),
            ("Carry the groceries upstairs", 5),
            ("Garden for an hour", 5),
        ],
        deficits=["Low aerobic capacity"],
        program="type2_diabetes",
        started_days_ago=70,
        assessments=[
            (70, {"six_minute_walk": 410, "chair_stand_30s": 11}),
            (28, {"six_minute_walk": 468, "chair_stand_30s": 14}),
        ],
        plan_days=(0, 3),
        plan_time="13:00",
        last_session_days_ago=17,
        documents=[
            (DocKind.INTRO_LETTER, 70, 66),
            (DocKind.ASSESSMENT_SUMMARY, 68, 64),
            (DocKind.PROGRESS_REPORT, 27, 22),
        ],
        paid_cents=90000,
        needs_clearance=True,
    ),
    DemoClient(
        key="parkinsons",
        person={
            "first_name": "George",
            "last_name": "Alvarez",
            "date_of_birth": "1957-05-22",
            "sex": "male",
        },
        provider="natarajan",
        diagnoses=[
            {
                "code": "G20.A1",
                "description": "Parkinson's disease without dyskinesia, without mention of "
                "fluctuations",
            }
        ],
        referral={
            "reason": "Gait and balance training; early Parkinson's disease",
            "precautions": "Freezing when turning; fall risk",
            "requested_frequency": "2 sessions a week",
            "requested_duration": "12 weeks",
        },
        referred_days_ago=40,
        history={
            "medications": [
                {
                    "name": "Carbidopa/levodopa",
                    "dose": "25/100 mg",
                    "frequency": "three times daily",
                }
            ]
        },
        goals=[
            ("Turn around in the kitchen without freezing", 4),
            ("Play nine holes of golf", 3),
            ("Button a shirt quickly", 5),
        ],
        deficits=["Shuffling gait", "Reduced balance on turns"],
        program="parkinsons",
        started_days_ago=35,
        assessments=[(35, {"tug": 11.9, "gait_speed": 0.95, "five_times_sts": 14.8})],
        plan_days=(2, 5),
        plan_time="15:00",
        last_session_days_ago=2,
        unsigned_days_ago=(2,),  # more than a day ago: owed on the home screen
        documents=[(DocKind.INTRO_LETTER, 35, None), (DocKind.ASSESSMENT_SUMMARY, 33, 30)],
        paid_cents=45000,
    ),
    DemoClient(
        key="copd",
        person={
            "first_name": "Susan",
            "last_name": "Wright",
            "date_of_birth": "1960-07-09",
            "sex": "female",
        },
        provider="okafor",
        diagnoses=[
            {
                "code": "J44.9",
                "description": "Chronic obstructive pulmonary disease, unspecified",
            }
        ],
        referral={
            "reason": "Deconditioning; breathless on stairs",
            "requested_frequency": "2 sessions a week",
        },
        referred_days_ago=3,
        history={},
        goals=[],
        deficits=[],
        program=None,
    ),
)


# The practice's price of each 24-session program (the set-up step "programs with prices").
PROGRAM_PRICE_CENTS = 96000


@dataclass
class DemoPractice:
    """What the demo built: the clients by key (``CLIENTS``) and the providers by key."""

    today: date
    clients: dict[str, Client] = field(default_factory=dict)
    providers: dict[str, ReferringProvider] = field(default_factory=dict)
    signed_logs: int = 0
    documents_sent: int = 0


def _moment(day: date, hour: int = 18) -> datetime:
    return datetime.combine(day, time(hour, 0), tzinfo=UTC)


async def _plan(repo: Repository, spec: DemoClient, client: Client, today: date) -> SessionPlan:
    """The client's weekly plan, saved through the schedule's use case (as typed on its form)."""
    start = today - timedelta(days=spec.started_days_ago)
    weeks = (default_program(spec.program).expected_weeks or 12) if spec.program else 12
    ends = plan_end(start, weeks + spec.extra_weeks)
    return await save_plan(
        repo,
        SavePlan(
            client_id=client.id,
            starts_on=start.isoformat(),
            ends_on=ends.isoformat() if ends else "",
            minutes="60",
            slots=[
                TypedSlot(weekday=(today - timedelta(days=d)).weekday(), start=spec.plan_time)
                for d in spec.plan_days
            ],
        ),
    )


def _session_days(plan: SessionPlan, start: date, last: date) -> list[date]:
    """The plan's session dates from ``start`` to ``last``."""
    return [s.day for s in planned_sessions(plan, start, last)]


def _exercises(lib: Sequence[Exercise], week: int) -> list[ExerciseEntry]:
    load = 2 + week // 2
    return [
        ExerciseEntry(
            exercise_id=lib[0].id, exercise_name=lib[0].name, sets=2, reps=10 + week // 3
        ),
        ExerciseEntry(
            exercise_id=lib[5].id,
            exercise_name=lib[5].name,
            sets=2,
            reps=12,
            load=load,
            load_unit="kg",
        ),
    ]


async def _intake(
    repo: Repository, spec: DemoClient, provider: ReferringProvider, today: date
) -> Client:
    referred = today - timedelta(days=spec.referred_days_ago)
    client = await intake.save_client(repo, intake.SaveClient(today=referred, **spec.person))
    await intake.record_referral(
        repo,
        intake.RecordReferral(
            client_id=client.id,
            today=referred,
            provider_id=provider.id,
            referred_on=referred.isoformat(),
            physician_follow_up=(referred + timedelta(days=100)).isoformat()
            if spec.program
            else "",
            diagnoses=[intake.ChosenDiagnosis(**d) for d in spec.diagnoses],
            **spec.referral,
        ),
    )
    if spec.program is None:
        return client
    seen = referred + timedelta(days=2)
    await intake.save_health_history(
        repo,
        intake.SaveHealthHistory(
            client_id=client.id,
            today=seen,
            conditions=[intake.ConditionRow(**c) for c in spec.history.get("conditions", [])],
            surgeries=[intake.SurgeryRow(**s) for s in spec.history.get("surgeries", [])],
            medications=[intake.MedicationRow(**m) for m in spec.history.get("medications", [])],
        ),
    )
    parq = {key: False for key in intake.PARQ_KEYS}
    diabetes = spec.needs_clearance
    await intake.save_screening(
        repo,
        intake.RecordScreening(
            client_id=client.id,
            today=seen,
            parq=parq,
            acsm=intake.AcsmAnswers(
                exercises_regularly=False,
                known_cmr_disease=diabetes,
                symptomatic=False,
                has_diabetes=diabetes,
                desired_intensity="moderate",
            ),
        ),
    )
    if diabetes:
        await intake.save_clearance(
            repo,
            intake.SaveClearance(
                client_id=client.id,
                today=seen + timedelta(days=4),
                requested_on=seen.isoformat(),
                received_on=(seen + timedelta(days=4)).isoformat(),
            ),
        )
    await intake.save_goals(
        repo,
        intake.SaveGoals(
            client_id=client.id,
            today=seen,
            activities=[intake.PsfsEntry(activity=a, score=str(n)) for a, n in spec.goals],
            deficits="\n".join(spec.deficits),
        ),
    )
    return client


async def _consents(repo: Repository, client: Client, day: date, signer: Signer | None) -> None:
    for kind in (ConsentKind.INFORMED_CONSENT, ConsentKind.AUTHORISATION):
        await intake.sign_consent(
            repo,
            intake.SignConsent(
                client_id=client.id,
                kind=kind,
                today=day,
                practice_name=PROFILE["business_name"],
                agree=True,
                signed_name=client.full_name,
            ),
            signer,
        )


def _vitals(spec: DemoClient, i: int, timing: Timing) -> Vitals:
    if timing is Timing.PRE:
        return Vitals(
            timing=Timing.PRE,
            heart_rate_bpm=70 + i % 5,
            systolic_mmhg=126 + i % 7,
            diastolic_mmhg=78 + i % 4,
            bp_position=BpPosition.SEATED,
            spo2_percent=97,
        )
    return Vitals(
        timing=Timing.POST, heart_rate_bpm=92 + i % 6, systolic_mmhg=134, diastolic_mmhg=80
    )


async def _sessions(
    repo: Repository,
    spec: DemoClient,
    client: Client,
    episode_id: str,
    plan: SessionPlan,
    today: date,
    lib: Sequence[Exercise],
    signer: Signer | None,
) -> int:
    start = today - timedelta(days=spec.started_days_ago)
    last = today - timedelta(days=spec.last_session_days_ago)
    signed = 0
    cancelled = {today - timedelta(days=d) for d in spec.missed_days_ago}
    no_show = {today - timedelta(days=d) for d in spec.no_show_days_ago}
    missed = cancelled | no_show
    unsigned = {today - timedelta(days=d) for d in spec.unsigned_days_ago}
    days = _session_days(plan, start, last)
    at = time.fromisoformat(spec.plan_time)
    context = await load_clearance_context(repo, client.id)
    batch: list[SessionLog] = []
    for number, day in enumerate(days, start=1):
        week = (day - start).days // 7
        if day in missed:
            log = SessionLog(
                client_id=client.id,
                episode_id=episode_id,
                session_date=day,
                start_time=at,
                session_number=number,
                attendance=Attendance.NO_SHOW if day in no_show else Attendance.CANCELLED,
                attendance_reason="Did not come; no message"
                if day in no_show
                else "Client unwell; called to cancel",
            )
        else:
            log = SessionLog(
                client_id=client.id,
                episode_id=episode_id,
                session_date=day,
                start_time=at,
                session_number=number,
                attendance=Attendance.ATTENDED,
                pre_vitals=_vitals(spec, number, Timing.PRE),
                post_vitals=_vitals(spec, number, Timing.POST),
                pain=2 if spec.key == "tkr" else 0,
                exercises=_exercises(lib, week),
            )
        # Written up and signed after the session (its hour and a quarter).
        signed_at = datetime.combine(day, at, tzinfo=UTC) + timedelta(minutes=75)
        if day in unsigned:
            await save_draft_log(repo, log, now=signed_at)
            continue
        if signed == 0:  # the first through the use case (the profile learns the key)
            await sign_session_log(repo, log, now=signed_at, clearance=context, signer=signer)
        else:  # the rest signed the same way, stored together (one save per client)
            done = sign_log(
                log,
                signed_by=PROFILE["practitioner_name"],
                credentials=PROFILE["credentials"],
                signed_at=signed_at,
                screening_outcome=context.outcome,
                clearance=context.clearance,
            )
            if signer is not None:
                done, _key = await sign_with_key(done, signer)
            batch.append(done)
        signed += 1
    await repo.save(*batch)
    return signed


async def _documents(
    repo: Repository,
    spec: DemoClient,
    client: Client,
    today: date,
    render_document: Callable[[dict[str, Any]], str],
) -> int:
    sent = 0
    for kind, sent_ago, ack_ago in spec.documents:
        day = today - timedelta(days=sent_ago)
        inp = await documents_service.gather(repo, kind, day, client_id=client.id)
        vm = view_model(inp)
        _doc, comm = await documents_service.mark_sent(
            repo,
            documents_service.MarkSent(
                document=vm,
                html=render_document(vm),
                channel="fax",
                sent_on=day.isoformat(),
                today=day,
            ),
        )
        sent += 1
        if ack_ago is not None:
            await documents_service.mark_acknowledged(
                repo,
                documents_service.MarkAcknowledged(
                    communication_id=comm.id,
                    on=(today - timedelta(days=ack_ago)).isoformat(),
                    today=today,
                ),
            )
    return sent


# The post-TKR client's home program (starter library names), given at the 6-week reassessment.
HOME_PROGRAM_CLIENT = "tkr"
HOME_PROGRAM_GIVEN_DAYS_AGO = 42
HOME_PROGRAM_EXERCISES = ("Sit-to-stand", "Seated knee extension", "Heel raise", "Calf stretch")
HOME_PROGRAM_SAFETY = (
    "Stop and call if the knee swells, turns red or hot, or the pain is worse the next morning."
)


async def _home_program(
    repo: Repository,
    client: Client,
    today: date,
    lib: Sequence[Exercise],
    render_document: Callable[[dict[str, Any]], str],
) -> None:
    """The client's home program saved and printed once, through the home program's use cases."""
    by_name = {e.name: e for e in lib}
    rows = []
    for name in HOME_PROGRAM_EXERCISES:
        row = new_row(by_name[name])
        rows.append(
            home_programs.RowCommand(
                key=row.key,
                exercise_id=row.exercise_id,
                name=row.name,
                drawing=row.drawing,
                dose=row.dose.model_dump(),
                cues=row.cues,
            )
        )
    await home_programs.save_home_program(
        repo,
        home_programs.SaveHomeProgram(
            client_id=client.id, rows=rows, safety_notes=HOME_PROGRAM_SAFETY
        ),
    )
    program = await home_programs.load_home_program(repo, client.id)
    assert program is not None
    day = today - timedelta(days=HOME_PROGRAM_GIVEN_DAYS_AGO)
    vm = await home_programs.build_print_view(repo, client, program, day)
    await home_programs.record_print(
        repo,
        home_programs.RecordPrint(client_id=client.id, html=render_document(vm), today=day),
    )


def _plain_document(vm: dict[str, Any]) -> str:
    """A document's text when no renderer is given (the domain's tests)."""
    return f"<article><h1>{vm['title']}</h1><p>{vm['date']}</p></article>"


async def build_demo_practice(
    repo: Repository,
    today: date,
    *,
    signer: Signer | None = None,
    render_document: Callable[[dict[str, Any]], str] | None = None,
    clients: Sequence[DemoClient] = CLIENTS,
) -> DemoPractice:
    """Build the demo practice into an empty ``repo``, dated relative to ``today``."""
    out = DemoPractice(today=today)
    render = render_document or _plain_document
    await save_practice_profile(repo, SaveProfile(**PROFILE))
    await intake.save_consent_texts(
        repo,
        intake.SaveConsentTexts(
            **(await intake.load_consent_texts(repo)).model_dump(
                include={"informed_consent", "authorisation"}
            )
        ),
    )
    for key, data in PROVIDERS.items():
        out.providers[key] = await intake.save_provider(repo, intake.SaveProvider(**data))
    for key in sorted({c.program for c in clients if c.program}):
        program = default_program(key)
        await repo.save(program.model_copy(update={"price_cents": PROGRAM_PRICE_CENTS}))
    lib = starter_library()
    for spec in clients:
        client = await _intake(repo, spec, out.providers[spec.provider], today)
        out.clients[spec.key] = client
        if spec.program is None:
            continue
        start = today - timedelta(days=spec.started_days_ago)
        await _consents(repo, client, start - timedelta(days=1), signer)
        episode = await start_episode(
            repo,
            StartEpisode(
                client_id=client.id,
                today=start,
                program_id=default_program(spec.program).id,
                start_date=start.isoformat(),
            ),
        )
        if spec.paid_cents:
            await record_payment(
                repo,
                RecordPayment(
                    episode_id=episode.id,
                    today=start,
                    paid_on=start.isoformat(),
                    amount=f"{spec.paid_cents / 100:.2f}",
                    method="card",
                ),
            )
        for i, (ago, values) in enumerate(spec.assessments):
            day = today - timedelta(days=ago)
            await record_assessment(
                repo,
                RecordAssessment(
                    client_id=client.id,
                    today=day,
                    episode_id=episode.id,
                    kind="baseline" if i == 0 else "reassessment",
                    assessed_on=day.isoformat(),
                    performed_by=PROFILE["practitioner_name"],
                    measurements=[{"measure_id": m, "value": v} for m, v in values.items()],
                ),
            )
        plan = await _plan(repo, spec, client, today)
        out.signed_logs += await _sessions(repo, spec, client, episode.id, plan, today, lib, signer)
        out.documents_sent += await _documents(repo, spec, client, today, render)
        if spec.key == HOME_PROGRAM_CLIENT:
            await _home_program(repo, client, today, lib, render)
    await repo.set_meta(DEMO_META_KEY, {"built_on": today.isoformat()})
    return out


@dataclass
class DemoWrite:
    """The demo practice ready to store: every record's write and audit word, and the mark."""

    practice: DemoPractice
    ops: list[dict]
    changes: list[tuple[str, str, str]]


async def prepare_demo_practice(
    today: date,
    *,
    signer: Signer | None = None,
    render_document: Callable[[dict[str, Any]], str] | None = None,
) -> DemoWrite:
    """The demo practice built in memory through the same use cases (one storage transaction
    per record would keep a tablet busy for half a minute), as one write: every record with
    its audit entry, and the meta value that marks the database as the demo's."""
    scratch = InMemoryRepository()
    built = await build_demo_practice(
        scratch, today, signer=signer, render_document=render_document
    )
    ops: list[dict] = []
    changes: list[tuple[str, str, str]] = []
    for store, docs in scratch.stores.items():
        if store in DERIVED_STORES:
            continue  # derived: a raw write never carries them; rebuilt when first read
        for record_id, text in docs.items():
            doc = json.loads(text)
            ops.append({"store": store, "doc": doc})
            changes.append((audit_action(store, doc), store, record_id))
    mark = await scratch.get_meta(DEMO_META_KEY)
    ops.append({"store": "meta", "doc": {"key": DEMO_META_KEY, "value": mark}})
    return DemoWrite(built, ops, changes)


async def store_demo_practice(repo: Repository, demo: DemoWrite) -> DemoPractice:
    """Write the prepared demo into ``repo`` (the demo's own, empty database) in ONE
    transaction: all of it, marked, or nothing."""
    await repo.write(demo.ops, demo.changes)
    return demo.practice


async def open_demo_practice(
    repo: Repository,
    today: date,
    *,
    signer: Signer | None = None,
    render_document: Callable[[dict[str, Any]], str] | None = None,
) -> DemoPractice:
    """Prepare the demo and store it into ``repo`` (see the two steps above)."""
    demo = await prepare_demo_practice(today, signer=signer, render_document=render_document)
    return await store_demo_practice(repo, demo)
