"""What the next assessment of a client measures, and what a recorded assessment reads as:
the queries behind the assessment screens::

    plan = await assessment_plan(repo, client_id)      # the measures to suggest, and why
    page = await assessment_reading(repo, assessment)  # its interpretation, with the history
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..assessments import Assessment, interpret_assessment, next_assessment_kind
from ..intake import Client, Goals, Referral, age_on
from ..measures import CustomMeasure
from ..outcomes import ReportRow
from ..programs import Episode, conditions_from_diagnoses, suggest_programs
from ..repository import Repository
from .outcomes import custom_measure_map, list_programs

VITAL_IDS = ("resting_hr", "bp_systolic", "bp_diastolic")  # taken on every assessment
# Physical activity as a vital sign: suggested at intake and at every reassessment.
ACTIVITY_MEASURE = "physical_activity"


async def diagnosis_codes(repo: Repository, client_id: str) -> list[str]:
    """The ICD-10 codes of every referral of the client."""
    return [d.code for r in await repo.find(Referral, "client_id", client_id) for d in r.diagnoses]


@dataclass
class AssessmentPlan:
    episode: Episode | None  # the program in progress, if any
    last: Assessment | None  # the latest assessment of that program (or of the client)
    next_kind: str  # baseline, reassessment …
    psfs_activities: list[str]  # the goals' activities, re-scored every time
    suggested: list[str] = field(default_factory=list)  # measure ids, in order
    reason: str = ""  # what the suggestion comes from, in words
    customs: dict[str, CustomMeasure] = field(default_factory=dict)


async def assessment_plan(repo: Repository, client_id: str) -> AssessmentPlan:
    """The measures to suggest for the client's next assessment: the program's (or those of
    the program the referral's diagnosis suggests), what was measured last time, the PSFS
    when goals are set, and physical activity every time."""
    customs = await custom_measure_map(repo)
    episodes = await repo.find(Episode, "client_id", client_id)
    episode = next((e for e in episodes if e.is_active), None)
    assessments = await repo.find(Assessment, "client_id", client_id)
    mine = [a for a in assessments if episode is None or a.episode_id == episode.id]
    last = max(mine, key=lambda a: (a.assessed_on, a.created_at)) if mine else None
    goals: list[Goals] = await repo.find(Goals, "client_id", client_id)
    psfs = [a.activity for a in max(goals, key=lambda g: g.created_at).activities] if goals else []
    if episode is not None:
        suggested = [mid for mid in episode.program.measure_ids if mid not in VITAL_IDS]
        reason = f"the program “{episode.program.name}”"
    else:
        codes = await diagnosis_codes(repo, client_id)
        programs = suggest_programs(codes, await list_programs(repo))
        suggested = (
            [mid for mid in programs[0].measure_ids if mid not in VITAL_IDS] if programs else []
        )
        reason = f"the referral's diagnosis (“{programs[0].name}”)" if programs else ""
    if last is not None:  # reassess what was measured last time too
        suggested += [e.measure_id for e in last.measurements if e.measure_id not in suggested]
    if psfs and "psfs" not in suggested:  # the client's goals are re-scored every time
        suggested.append("psfs")
    if ACTIVITY_MEASURE not in suggested:  # asked at intake and every reassessment
        suggested.append(ACTIVITY_MEASURE)
    return AssessmentPlan(
        episode, last, next_assessment_kind(mine), psfs, suggested, reason, customs
    )


@dataclass
class AssessmentReading:
    client: Client
    episode: Episode | None
    history: list[Assessment]  # the assessments of the same program (or none), this included
    conditions: list[str]  # from the referrals' codes and the program
    age: int  # on the day assessed
    rows: list[ReportRow]
    customs: dict[str, CustomMeasure]


async def assessment_reading(
    repo: Repository, assessment: Assessment, client: Client
) -> AssessmentReading:
    """The assessment interpreted against norms, cut-offs and its program's history."""
    history = [
        a
        for a in await repo.find(Assessment, "client_id", client.id)
        if a.episode_id == assessment.episode_id
    ]
    conditions = conditions_from_diagnoses(await diagnosis_codes(repo, client.id))
    episode = await repo.get(Episode, assessment.episode_id) if assessment.episode_id else None
    if episode is not None:
        conditions = list(dict.fromkeys(conditions + episode.program.conditions))
    customs = await custom_measure_map(repo)
    age = age_on(client.date_of_birth, assessment.assessed_on)
    rows = interpret_assessment(
        assessment,
        history,
        age,
        client.sex,
        conditions,
        date_of_birth=client.date_of_birth,
        custom_measures=customs,
    )
    return AssessmentReading(client, episode, history, conditions, age, rows, customs)
