"""The Sessions tab reads a client's logs once, validates only what its rows show, and shows
exactly what it showed when it validated every log whole (``services.client_timeline``)."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from app import core
from app.render import render
from app.screens import sessions as sessions_screen
from medex.exercises import starter_library
from medex.intake import Client
from medex.safety import BpPosition, Timing, Vitals
from medex.services.client_timeline import client_timeline
from medex.services.sessions import (
    AddAddendum,
    add_addendum,
    check_log_signatures,
    save_draft_log,
    sign_session_log,
)
from medex.session_logs import (
    Attendance,
    ExerciseEntry,
    SessionLog,
    signature_claim,
    stored_signature_claim,
)
from tests.support import screens
from tests.support.aio import run
from tests.support.fakes import FakePlatform
from tests.support.seeders import CLIENT, T0, draft, repo_with_client, screened
from tests.support.whole_log_history import client_history
from tests.unit.test_read_counts import CountingRepository

LIB = starter_library()


def _exercises(i: int) -> list[ExerciseEntry]:
    """A mix of what a volume is counted from: reps, kg and lb loads (the same exercise in
    both), timed and distance work."""
    out = [
        ExerciseEntry(exercise_id=LIB[0].id, exercise_name="Sit-to-stand", sets=2, reps=10),
        ExerciseEntry(
            exercise_id=LIB[5].id,
            exercise_name="Band row",
            sets=3,
            reps=8 + i % 4,
            load=4 + i % 3,
            load_unit="kg" if i % 2 else "lb",
        ),
    ]
    if i % 3 == 0:
        out.append(
            ExerciseEntry(
                exercise_id=LIB[5].id,
                exercise_name="Band row",
                sets=1,
                reps=10,
                load=10,
                load_unit="lb",
            )
        )
    if i % 4 == 0:
        out.append(
            ExerciseEntry(exercise_id=LIB[1].id, exercise_name="Walk", sets=1, duration_s=600)
        )
    if i % 5 == 0:
        out.append(
            ExerciseEntry(exercise_id=LIB[2].id, exercise_name="Bike", sets=2, distance_m=1500.5)
        )
    return out


CRISIS = Vitals(
    timing=Timing.PRE,
    heart_rate_bpm=70,
    systolic_mmhg=210,
    diastolic_mmhg=100,
    bp_position=BpPosition.SEATED,
)


def practice(repo, n: int = 24) -> dict[str, SessionLog]:
    """``n`` logs of CLIENT over a month: signed, drafts, a stop flag, cancelled and missed
    sessions, addenda; and one log of another client."""
    logs: dict[str, SessionLog] = {}
    for i in range(n):
        day = 1 + i % 28
        kw: dict = {"exercises": _exercises(i)}
        if i % 6 == 1:
            kw = {"attendance": Attendance.CANCELLED, "attendance_reason": "Ill", "exercises": []}
            kw.update(pre_vitals=None, pain=None)
        elif i % 6 == 2:
            kw = {"attendance": Attendance.NO_SHOW, "exercises": [], "pre_vitals": None}
            kw["pain"] = None
        elif i % 6 == 4:
            kw["pre_vitals"] = CRISIS  # a hard stop, in a draft
        log = run(
            save_draft_log(repo, draft(day=day, session_number=i + 1 if i % 2 else None, **kw))
        )
        if i % 3 == 0:
            log = run(sign_session_log(repo, log, now=T0 + timedelta(hours=i)))
            if i % 2 == 0:
                run(add_addendum(repo, AddAddendum(log_id=log.id, text=f"Note {i}"), now=T0))
        logs[log.id] = log
    other = "9b3f0c1e-2b4d-4e6f-8a1b-3c5d7e9f1a2b"
    run(save_draft_log(repo, draft(day=5, client_id=other)))
    return logs


def _tamper(repo, log_id: str, **changes) -> None:
    """Change a stored document behind the app's back (as a tool writing IndexedDB would)."""
    doc = json.loads(repo.stores["session_logs"][log_id])
    doc.update(changes)
    repo.stores["session_logs"][log_id] = json.dumps(doc)


def _same(repo, **filters) -> None:
    old = run(client_history(repo, CLIENT, **filters))
    new = run(client_timeline(repo, CLIENT, **filters))
    assert [e.log.id for e in new.entries] == [e.log.id for e in old.entries]
    for n, o in zip(new.entries, old.entries, strict=True):
        assert n.volume == o.volume
        assert n.hard_stop == o.hard_stop
        assert n.addenda == o.addenda
        assert (n.log.session_date, n.log.session_number, n.log.attendance, n.log.is_signed) == (
            o.log.session_date,
            o.log.session_number,
            o.log.attendance,
            o.log.is_signed,
        )
    for name in (
        "attendance",
        "total_sets",
        "total_reps",
        "volume_load_kg",
        "volume_load_lb",
        "load_units",
        "volume_load_text",
        "duration_s",
        "distance_m",
        "unsigned",
        "hard_stops",
    ):
        assert getattr(new, name) == getattr(old, name), name
    platform = FakePlatform()
    from medex.signing import VerificationCache

    want = run(check_log_signatures(platform, VerificationCache(), [e.log for e in old.entries]))
    got = run(VerificationCache().check(platform, new.claims))
    assert got == want


def test_the_timeline_equals_the_one_made_from_whole_logs():
    repo = repo_with_client()
    practice(repo)
    _same(repo)
    _same(repo, attendance=Attendance.ATTENDED)
    _same(repo, date_from=date(2025, 3, 4), date_to=date(2025, 3, 20))
    _same(repo, attendance=[Attendance.CANCELLED, Attendance.NO_SHOW])


def test_a_changed_signed_log_still_shows_it_does_not_match_its_signature():
    repo = repo_with_client()
    logs = practice(repo)
    signed = [log for log in logs.values() if log.is_signed]
    _tamper(repo, signed[0].id, pain=9)
    _tamper(repo, signed[1].id, plan_next="Added later")
    new = run(client_timeline(repo, CLIENT))
    hashes = {c.record_id: c.hash_ok for c in new.claims}
    assert hashes[signed[0].id] is False and hashes[signed[1].id] is False
    assert all(hashes[log.id] for log in signed[2:])
    _same(repo)


def test_a_stored_document_that_differs_only_in_form_is_checked_whole():
    """Stored text the model normalises (surrounding spaces, stripped on validation): the
    stored document does not hash to the signature, the validated log does. The check falls
    back to the whole log and shows it signed, as before."""
    repo = repo_with_client()
    logs = practice(repo, 6)
    log = next(log for log in logs.values() if log.is_signed)
    doc = json.loads(repo.stores["session_logs"][log.id])
    doc["exercises"][0]["exercise_name"] = "  Sit-to-stand  "
    repo.stores["session_logs"][log.id] = json.dumps(doc)
    assert stored_signature_claim(doc) is None
    assert signature_claim(SessionLog.model_validate(doc)).hash_ok
    new = run(client_timeline(repo, CLIENT))
    assert {c.record_id: c.hash_ok for c in new.claims}[log.id] is True
    _same(repo)


def test_the_stored_claim_is_the_validated_log_s_claim():
    repo = repo_with_client()
    for log in practice(repo).values():
        doc = json.loads(repo.stores["session_logs"][log.id])
        if log.is_signed:
            assert stored_signature_claim(doc) == signature_claim(log)
        else:
            assert stored_signature_claim(doc) is None


# -- the screen -------------------------------------------------------------------------------


class DocumentCountingRepository(CountingRepository):
    async def documents(self, store, where=None):
        self.reads.append(("documents", store))
        return await super().documents(store, where)


@pytest.fixture
def app(monkeypatch):
    a = screens.session_app(monkeypatch, DocumentCountingRepository())
    client = Client(
        id=CLIENT,
        first_name="Ruth",
        last_name="Okafor",
        date_of_birth=date(1953, 3, 14),
        sex="female",
    )
    run(a.repo.save(client))
    screened(a.repo, False)
    return a


def _whole_validations(monkeypatch) -> list[str]:
    seen: list[str] = []
    real = SessionLog.model_validate.__func__  # type: ignore[attr-defined]
    real_json = SessionLog.model_validate_json.__func__  # type: ignore[attr-defined]

    def counted(cls, obj, *args, **kwargs):
        seen.append("dict")
        return real(cls, obj, *args, **kwargs)

    def counted_json(cls, text, *args, **kwargs):
        seen.append("json")
        return real_json(cls, text, *args, **kwargs)

    monkeypatch.setattr(SessionLog, "model_validate", classmethod(counted))
    monkeypatch.setattr(SessionLog, "model_validate_json", classmethod(counted_json))
    return seen


def test_the_sessions_tab_reads_the_logs_once_and_validates_none_whole(app, monkeypatch):
    logs = practice(app.repo, 30)
    app.repo.reads.clear()
    seen = _whole_validations(monkeypatch)
    app.navigate(f"#/client-sessions?id={CLIENT}")
    page = run(app.html())
    assert page.count("data-log=") == len(logs)
    reads = app.repo.reads
    # Every log comes from one read of the stored documents; none is read or validated whole.
    assert reads.count(("documents", "session_logs")) == 1, reads
    assert not [r for r in reads if r[1] == "SessionLog"], reads
    assert seen == [], seen
    # A log whose content no longer matches its signature is validated whole (once) to say so.
    signed = next(log for log in logs.values() if log.is_signed)
    _tamper(app.repo, signed.id, pain=8)
    page = run(app.html())
    assert seen == ["dict"], seen
    assert "Signed: content does not match its signature" in page


def test_the_sessions_tab_shows_what_the_whole_logs_showed(app):
    """The page, byte for byte, against the same template given the timeline made from whole
    logs and their signatures checked as before."""
    logs = practice(app.repo, 30)
    _tamper(app.repo, next(log for log in logs.values() if log.is_signed).id, pain=7)
    for params in (
        {"id": CLIENT},
        {"id": CLIENT, "attendance": "attended"},
        {"id": CLIENT, "from": "2025-03-05", "to": "2025-03-18"},
        {"id": CLIENT, "attendance": "no_show", "from": "2025-03-27"},
    ):
        template, context = run(sessions_screen.client_sessions(app, params))
        base = {
            "app_version": core.APP_VERSION,
            "state": app.state,
            "navigation": core.NAVIGATION,
            "current": "client-sessions",
        }
        new = render(template, **base, **context)
        chosen = sessions_screen.history_filters(params)[1]
        old_history = run(client_history(app.repo, CLIENT, **chosen))
        old_checks = run(
            check_log_signatures(app.platform, app.signatures, [e.log for e in old_history.entries])
        )
        old = render(
            template,
            **base,
            **{
                **context,
                "history": old_history,
                "checks": {k: v.value for k, v in old_checks.items()},
            },
        )
        assert new == old
        assert new.count("data-log=") == len(old_history.entries)
