"""The demo practice: a small but complete practice built through the app's own screen actions
(profile, provider, client with referral, history, screening, clearance, consents, goals, a custom
exercise, measure and program, an episode with a payment, an assessment, a signed session with an
addendum, every document sent, a discharge), with the day and the ICD-10 index pinned.

``build_practice(app, text)`` types ``text`` into every free-text field of every form (a field
that refuses it must say why; the text is then cut or given back its good value): the hostile
input sweep types ``HOSTILE`` strings, tools/make_fixture_backup.py a plain text for the frozen
backup fixture. ``practice(variant)`` builds one per hostile variant, once; ``crawl`` opens
every screen reachable from it.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import date
from typing import Any

from app import clock, core, icd10_picker
from app.screens import clients as clients_screen
from medex import demo
from medex.documents import SPECS, DocKind, SentDocument
from medex.exercises import Exercise
from medex.home_programs import HomeProgram, home_program_id
from medex.icd10 import Icd10Index
from medex.intake import Client, ReferringProvider
from medex.programs import Episode, ProgramTemplate
from medex.screening import PARQ_PAGE1_LABELS
from medex.session_logs import SessionLog

from .aio import run
from .fakes import DataRepo, FakePlatform
from .images import TINY_JPEG
from .pages import Form, Page, assert_inert
from .seeders import FIXTURE

TODAY = date(2026, 3, 10)

BIG = ("<script>alert(1)</script>{{ 7*7 }}\u202eמרחבא 😀 " * 4000)[:100_000]
HOSTILE = {
    "script": "<script>alert(1)</script>",
    "img": '"><img src=x onerror=alert(1)>',
    "template": "tpl{{ 7*7 }} {% raw %} ${7*7} #{7*7}",
    "big": BIG,
    "control": "ctl\x00a\x07b\x1bc\x7fd\x0be\tf\ng",
    "rtl": "\u202eevil\u202c שלום مرحبا \u200f",
    "emoji": "😀👩🏽‍⚕️ e\u0301\u0301\u0301 Z\u0351\u0360\u035b",
}


# -- the practice, built through the screens -----------------------------------------------------


class Sweep:
    """One hostile string typed into every free-text field of every form."""

    def __init__(self, app: core.App, hostile: str):
        self.app, self.hostile = app, hostile
        self.typed: set[tuple[str, str]] = set()  # (action, field) that kept the hostile text
        self.refused: dict[tuple[str, str], str] = {}  # (action, field) → message shown

    def html(self, location: str | None = None) -> str:
        if location:
            self.app.navigate(location)
        return run(self.app.html())

    def form(self, location: str | None, action: str, id_prefix: str = "") -> Form:
        html = self.html(location)
        for form in Page(html).forms:
            if form.action == action and form.id.startswith(id_prefix):
                return form
        raise AssertionError(f"no {action} form on {location or self.app.location()}")

    def errors(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for state in self.app.state.forms.values():
            out.update(state.errors)
        return out

    def submit(
        self,
        location: str | None,
        action: str,
        good: dict[str, Any] | None = None,
        extra: dict[str, Any] | None = None,
        id_prefix: str = "",
        skip: tuple[str, ...] = (),
    ) -> Form:
        """Fill the form's free-text fields with the hostile string, submit; a refused field
        must show a message (and the page stay inert), then it is cut to its maximum length
        or given back its good value until the save goes through."""
        form = self.form(location, action, id_prefix)
        base = {**form.data_attrs(), **form.values, **(good or {})}
        fields = [n for n in form.text if n not in skip and not n.startswith("_")]
        data = {**base, **{n: self.hostile for n in fields}, **(extra or {})}
        for _attempt in range(6):
            before = dict(self.app.state.forms)
            for state in before.values():
                state.errors = {}
            run(self.app.dispatch(action, dict(data)))
            errors = self.errors()
            if not errors:
                break
            page = self.html()
            assert_inert(page, f"{action} refused")
            assert all(isinstance(m, str) and m.strip() for m in errors.values()), errors
            changed = False
            for key, message in errors.items():
                names = [n for n in fields if key in (n, f"{n}.0") or key.split(".")[0] == n]
                limit = re.search(r"at most (\d+) characters", message)
                for name in names or fields:
                    value = str(data.get(name, ""))
                    if value == str(base.get(name, "")):
                        continue
                    if limit and len(value) > int(limit.group(1)):
                        self.refused[(action, name)] = message
                        data[name] = value[: int(limit.group(1))]
                        changed = True
                    elif names:
                        self.refused[(action, name)] = message
                        data[name] = base.get(name, "")
                        changed = True
            if not changed:
                raise AssertionError(f"{action}: {errors}")
        else:
            raise AssertionError(f"{action} never saved: {self.errors()}")
        kept = [n for n in fields if str(data.get(n)) and self.hostile.startswith(str(data[n]))]
        self.typed.update((action, n) for n in kept)
        return form


GOOD_PROFILE = dict(demo.PROFILE)  # the demo practice's profile (medex.demo)


_INDEX = Icd10Index.from_text(FIXTURE)


async def _icd10_source():
    return _INDEX


@contextmanager
def fixed_day():
    """Screens read the day (app.clock) and the ICD-10 index through module globals: pin them."""
    core.load_screens()
    patched = [(icd10_picker, "icd10_source", _icd10_source), (clock, "today", lambda: TODAY)]
    saved = [(m, n, getattr(m, n)) for m, n, _ in patched]
    try:
        for module, name, value in patched:
            setattr(module, name, value)
        yield
    finally:
        for module, name, value in saved:
            setattr(module, name, value)


_BUILT: dict[str, Sweep] = {}


def practice(variant: str) -> Sweep:
    """The practice with ``HOSTILE[variant]`` typed everywhere (built once per variant)."""
    if variant not in _BUILT:
        with fixed_day():
            app = core.App(DataRepo(), FakePlatform())  # encryption off
            run(app.load())
            app.navigate("#/")
            _BUILT[variant] = build_practice(app, HOSTILE[variant])
    return _BUILT[variant]


def build_practice(app: core.App, hostile: str) -> Sweep:
    s = Sweep(app, hostile)
    s.submit("#/", "save-profile", GOOD_PROFILE)
    s.submit("#/provider", "save-provider", {"name": "Maria Chen", "npi": ""})
    provider = run(app.repo.list(ReferringProvider))[-1]
    s.submit(f"#/provider?id={provider.id}", "log-outreach", {"method": "visit"})
    s.submit(
        "#/client-new",
        "save-client",
        {
            "first_name": "Ana",
            "last_name": "Lopez",
            "date_of_birth": "1953-09-01",
            "sex": "female",
            "phone": "(555) 222-3333",
            "email": "ana@example.com",
            "emergency_contact_phone": "(555) 222-4444",
        },
    )
    client = run(app.repo.list(Client))[-1]
    at = f"#/client?id={client.id}&section="
    for code in ("M17.11", "E11.9"):
        run(app.dispatch("referral-form", {"client_id": client.id, "add_code": code}))
    s.submit(
        at + "referral",
        "referral-form",
        {"provider_id": provider.id, "referred_on": "2026-03-01"},
        skip=("icd_query",),
    )
    for kind in ("cond", "surg", "med"):
        run(app.dispatch("save-history", {"client_id": client.id, "add_row": kind}))
    s.submit(
        None,
        "save-history",
        {"cond_icd10_0": "E11.9", "med_name_1": "Metoprolol", "surg_performed_on_0": "2019-05-02"},
    )
    screening = {f"parq_{k}": "no" for k in PARQ_PAGE1_LABELS}
    screening.update(
        parq_heart_condition_or_high_bp="yes",
        parq_follow_up="no",
        acsm_exercises_regularly="no",
        acsm_known_cmr_disease="yes",
        acsm_has_diabetes="1",
        acsm_symptomatic="no",
        acsm_desired_intensity="moderate",
        screened_on="2026-03-02",  # the clearance it asks for is received after it
    )
    s.submit(at + "screening", "save-screening", screening)
    s.submit(
        at + "clearance",
        "save-clearance",
        {"requested_on": "2026-03-02", "received_on": "2026-03-09"},
    )
    s.submit("#/consent-texts", "save-consent-texts")
    for kind in ("informed_consent", "authorisation"):
        s.submit(at + "consent", "sign-consent", {"agree": "1"}, id_prefix=f"sign-{kind}")
    s.submit(at + "goals", "save-goals", {f"psfs_score_{i}": str(i + 3) for i in range(5)})
    s.submit("#/document-settings", "save-document-settings", {"cpt_code": "97799"})
    s.submit(
        "#/exercises?edit=new",
        "save-exercise",
        {"category": "strength", "sets": "2", "reps": "10", "duration": ""},
    )
    s.submit(
        "#/programs",
        "save-custom-measure",
        {"unit": "s", "direction": "lower_is_better", "mcid": "2"},
    )
    s.submit(
        "#/program?id=new",
        "save-program",
        {
            "diagnosis_prefixes": "M17",
            "reassess_every_days": "28",
            "measure_tug": "1",
            "c_0_measure_id": "tug",
            "c_0_kind": "threshold",
            "c_0_comparator": "<",
            "c_0_value": "12",
        },
        extra={"intent": "save"},
    )
    program = next(p for p in run(app.repo.list(ProgramTemplate)) if p.default_key is None)
    s.submit(
        f"#/client-outcomes?id={client.id}",
        "start-program",
        {"program_id": program.id, "start_date": "2026-01-20"},
    )
    episode = next(e for e in run(app.repo.find(Episode, "client_id", client.id)) if e.is_active)
    s.submit(
        f"#/client-outcomes?id={client.id}",
        "record-payment",
        {"paid_on": "2026-01-20", "amount": "450", "method": "card"},
        id_prefix=f"payment-form-{episode.id}",
    )
    s.submit(
        f"#/assessment-new?client={client.id}&kind=baseline",
        "assessment-form",
        {"assessed_on": "2026-01-20", "m_tug_value": "14.2"},
        extra={"intent": "save"},
    )
    run(app.dispatch("start-session", {"client": client.id}))
    log_id = app.state.params["id"]
    exercise = next(e for e in run(app.repo.list(Exercise)) if e.starter_key is None)
    form = s.form(None, "session-form")
    add = {**form.values, "intent": "add", "add_exercise_id": exercise.id}
    run(app.dispatch("session-form", add))
    s.submit(None, "session-form", ROUTINE, extra={"intent": "sign"})
    assert run(app.repo.get(SessionLog, log_id)).is_signed
    s.submit(None, "add-addendum", {"kind": "late_entry"})
    home = f"#/home-program?client={client.id}"
    run(
        app.dispatch(
            "home-program-form",
            {"client_id": client.id, "op": "add", "add_exercise_id": exercise.id},
        )
    )
    row = run(app.repo.get(HomeProgram, home_program_id(client.id))).exercises[0].key
    s.submit(
        home, "home-program-form", {f"r_{row}_photo_data_url": TINY_JPEG}, extra={"op": "save"}
    )
    run(app.dispatch("home-program-printed", {"client": client.id}))
    for kind in DocKind:
        subject = provider.id if SPECS[kind].per_provider else client.id
        where = "provider" if SPECS[kind].per_provider else "client"
        s.submit(
            f"#/document?{where}={subject}&kind={kind.value}",
            "document-form",
            {"_channel": "fax", "_sent_on": TODAY.isoformat(), "_scope_ok": "1"},
            extra={"op": "send"},
            id_prefix=f"doc-{kind.value}-",
        )
    s.submit(
        f"#/client-outcomes?id={client.id}",
        "discharge-program",
        {"discharge_reason": "client_request"},
    )
    return s


ROUTINE = {
    "pre_heart_rate_bpm": "72",
    "pre_systolic_mmhg": "128",
    "pre_diastolic_mmhg": "78",
    "pre_bp_position": "seated",
    "pre_spo2_percent": "97",
    "pre_glucose_mg_dl": "140",
    "pain": "2",
    "post_heart_rate_bpm": "88",
    "post_systolic_mmhg": "132",
    "post_diastolic_mmhg": "80",
    "tolerance": "well",
    "ex_0_rpe": "12",
}


# -- every screen, every printed document -------------------------------------------------------


def locations(app: core.App) -> list[str]:
    """Screens to open: every route without parameters, each record's own screen, and every
    in-app link found on the pages opened (so a new screen is reached through its links)."""
    repo = app.repo
    client = run(repo.list(Client))[-1]
    seeds = [f"#/{name}" for name in core.ROUTES]
    seeds += [f"#/client?id={client.id}&section={sec}" for sec, _ in clients_screen.SECTIONS]
    seeds += [f"#/document?id={d.id}" for d in run(repo.list(SentDocument))]
    seeds += [f"#/session?id={log.id}" for log in run(repo.list(SessionLog))]
    seeds += ["#/exercises?edit=new", "#/program?id=new", "#/audit"]
    return seeds


def crawl(sweep: Sweep, limit: int = 400) -> dict[str, str]:
    pages: dict[str, str] = {}
    queue = locations(sweep.app)
    with fixed_day():
        while queue and len(pages) < limit:
            where = queue.pop(0)
            if where in pages:
                continue
            sweep.app.state.forms.clear()
            html = sweep.html(where)
            pages[where] = html
            queue += [link for link in Page(html).links if link not in pages]
    return pages
