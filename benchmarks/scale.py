"""The app at practice scale, in headless Chromium: 1,000 clients and 50,000 session logs.

    python benchmarks/scale.py [--clients 1000] [--logs 50000] [--runs 5] [--no-build]

Generates plausible records with the domain models (CPython), writes them straight into the
app's IndexedDB, reloads the app, then drives the real screens and reads the shell's own
timings (``window.medexTimings``: action or route → ms, from the event to the patched DOM):

- start-up with the data (ready, and dashboard filled in);
- the client list, and a search by name over 1,000 clients;
- opening a client with 500 session logs (the sessions timeline);
- saving a session log (a new draft from "same as last time", then "Save draft"), signing it,
  and the home screen right after (everything it shows, with that signature in it);
- (each screen is opened twice: the first visit also loads the screen's code)
- interpreting 20 measures for a client with 30 assessments (the assessment screen with
  a chart per measure);
- rendering a progress report for that client.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from datetime import date, timedelta
from pathlib import Path

from common import ROOT, chromium, fmt, served_dist

sys.path[:0] = [str(ROOT / "site" / "py"), str(Path(__file__).resolve().parent)]

from backup import clients as make_clients  # noqa: E402  (benchmarks/backup.py)
from backup import session_logs as make_logs  # noqa: E402

from medex import demo  # noqa: E402
from medex.assessments import Assessment, MeasurementEntry  # noqa: E402
from medex.client_summary import AssessmentDate, summarize  # noqa: E402
from medex.records import PracticeProfile  # noqa: E402
from medex.session_logs import SessionLogSummary  # noqa: E402

# 20 measures with plain numeric entry, and a plausible value for a 72-year-old woman.
MEASURES = {
    "chair_stand_30s": 10, "five_times_sts": 13.5, "tug": 11.8, "up_and_go_8ft": 6.9,
    "step_test_2min": 78, "gait_speed": 0.95, "six_minute_walk": 380, "single_leg_stance": 8,
    "grip_right": 22, "grip_left": 21, "grip_strength": 22, "arm_curl": 13,
    "back_scratch": -3, "chair_sit_and_reach": 0.5, "nprs": 3, "resting_hr": 72,
    "bp_systolic": 132, "bp_diastolic": 80, "waist_circumference": 88,
}  # fmt: skip


def assessments(client_id: str, dob: date, n: int) -> list[dict]:
    out, start = [], date(2024, 1, 8)
    for i in range(n):
        entries = []
        for measure_id, value in MEASURES.items():
            try:
                entries.append(MeasurementEntry(measure_id=measure_id, value=value * (1 + i / 100)))
            except ValueError:
                continue
        doc = Assessment(
            client_id=client_id,
            kind="baseline" if i == 0 else "reassessment",
            assessed_on=start + timedelta(days=14 * i),
            measurements=entries,
        ).model_dump(mode="json")
        out.append(doc)
    return out


def dataset(n_clients: int, n_logs: int) -> tuple[dict[str, list[dict]], str]:
    rng = random.Random(7)
    clients = make_clients(n_clients, rng)
    star = clients[0]
    star.update(first_name="Ruth", last_name="Okafor", date_of_birth="1953-03-14", sex="female")
    ids = [c["id"] for c in clients]
    logs = make_logs([star["id"]], 500, rng) + make_logs(ids[1:], n_logs - 500, rng)
    profile = PracticeProfile(**demo.PROFILE).to_doc()  # the demo practice's (medex.demo)
    stores = {
        "profile": [profile],
        "clients": clients,
        "session_logs": logs,
        "assessments": assessments(star["id"], date(1953, 3, 14), 30),
    }
    stores["client_summaries"] = client_summaries(stores)
    stores["dashboard_rows"] = dashboard_rows(stores)
    return stores, star["id"]


def client_summaries(stores: dict[str, list[dict]]) -> list[dict]:
    """Each client's summary, as the app keeps it with every write (``medex.client_summary``):
    a practice that grew to this size through the app has them. Seeding the records without
    them would measure the one-off rebuild (as after an upgrade) instead of a visit."""
    logs = [SessionLogSummary.model_validate(d) for d in stores["session_logs"]]
    marks = [AssessmentDate.model_validate(d) for d in stores["assessments"]]
    by_client: dict[str, list[SessionLogSummary]] = {}
    for log in logs:
        by_client.setdefault(log.client_id, []).append(log)
    return [
        summarize(c["id"], by_client.get(c["id"], []), [], marks).to_doc()
        for c in stores["clients"]
    ]


def dashboard_rows(stores: dict[str, list[dict]]) -> list[dict]:
    """Each client's dashboard row, as the app keeps it with every write
    (``medex.services.dashboard_rows``), and the row that says they are complete."""
    from medex.client_summary import SUMMARY_VERSION, ClientSummary
    from medex.dashboard_row import COMPLETE_ID, DashboardRow
    from medex.intake import Client
    from medex.services.dashboard_rows import make_row

    summaries = {d["id"]: ClientSummary.model_validate(d) for d in stores["client_summaries"]}
    rows = [
        make_row(c["id"], Client.model_validate(c), {}, [], summaries[c["id"]], [], []).to_doc()
        for c in stores["clients"]
    ]
    return [*rows, DashboardRow(id=COMPLETE_ID, summary_version=SUMMARY_VERSION).to_doc()]


SEED_JS = """async ([store, docs]) => {
  // The records' database (js/store.js keeps it in a storage bucket of its own).
  const { bucket, name } = JSON.parse((await import(new URL("js/store.js", location.href).href)).liveLocation());
  const factory = bucket ? (await navigator.storageBuckets.open(bucket)).indexedDB : indexedDB;
  const db = await new Promise((ok, fail) => {
    const r = factory.open(name);
    r.onsuccess = () => ok(r.result); r.onerror = () => fail(r.error);
  });
  const known = db.objectStoreNames.contains(store);
  db.close();
  if (!known) return 0;  // an older build
  // Written as the app writes them (js/storage.js: a bucketed store's documents many to a
  // record), with no audit entry.
  const facade = await import(new URL("js/store.js", location.href).href);
  await facade.write(JSON.stringify(docs.map((doc) => ({ store, doc }))), null);
  return docs.length;
}"""


def seed(page, stores: dict[str, list[dict]]) -> None:
    for store, docs in stores.items():
        for i in range(0, len(docs), 5000):
            page.evaluate(SEED_JS, [store, docs[i : i + 5000]])


def timing_count(page) -> int:
    return int(page.evaluate("window.medexTimings.length"))


def last_timing(page, name: str, since: int) -> float:
    page.wait_for_function(
        "([name, since]) => window.medexTimings.slice(since).some(t => t[0] === name)",
        arg=[name, since],
        timeout=120_000,
    )
    rows = page.evaluate("(since) => window.medexTimings.slice(since)", since)
    return next(ms for what, ms in reversed(rows) if what == name)


def navigate(page, location: str, route: str) -> float:
    since = timing_count(page)
    page.evaluate("(h) => { location.hash = h; }", location)
    return last_timing(page, f"route:{route}", since)


def backup_and_restore(page, record) -> None:
    """Export everything to a file, then check and restore it (merge) from the Data screen."""
    import tempfile

    navigate(page, "#/data", "data")
    since = timing_count(page)
    with page.expect_download(timeout=600_000) as info:
        page.locator("#export-backup").click()
    record("export backup (whole practice)", last_timing(page, "action:export-backup", since))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / info.value.suggested_filename
        info.value.save_as(path)
        print(f"backup file: {path.stat().st_size / 1e6:.0f} MB", flush=True)
        since = timing_count(page)
        page.locator("#field-backup_file").set_input_files(str(path))
        page.locator("#restore-check").click()
        # The check paints progress as it goes: the page is never frozen without a sign of life.
        record(
            "check backup before restore (parse + validate all)",
            last_timing(page, "action:restore-check", since),
        )
        since = timing_count(page)
        page.locator("#restore-apply").click()
        record(
            "restore (merge) in one transaction", last_timing(page, "action:restore-apply", since)
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--logs", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-build", action="store_true")
    parser.add_argument("--backup", action="store_true", help="also export and restore a backup")
    parser.add_argument("--detail", action="store_true", help="print the storage calls of a screen")
    args = parser.parse_args()
    print(
        f"generating {args.clients} clients, {args.logs} session logs, 30 assessments …", flush=True
    )
    stores, star = dataset(args.clients, args.logs)
    size = sum(len(json.dumps(d)) for docs in stores.values() for d in docs)
    results: dict[str, list[float]] = {}

    def record(key: str, ms: float) -> None:
        results.setdefault(key, []).append(ms)

    with served_dist(rebuild=not args.no_build) as base, chromium() as browser:
        context = browser.new_context(viewport={"width": 1024, "height": 768})
        page = context.new_page()
        page.goto(base)
        page.wait_for_function(
            "document.documentElement.dataset.appReady === 'true'", timeout=120_000
        )
        # The start snapshot is made in a worker after the first start (a second Python,
        # seconds of CPU): the loads measured must not share the two cores with it.
        page.wait_for_function("!!document.documentElement.dataset.startSnapshot", timeout=180_000)
        print(f"seeding IndexedDB with {size / 1e6:.0f} MB of records …", flush=True)
        seed(page, stores)
        latest = max(stores["assessments"], key=lambda a: a["assessed_on"])["id"]
        # One load not counted: right after the seeding IndexedDB is still compacting what was
        # just written (every read of that load is several times slower), which no
        # practitioner's start-up meets.
        page.reload()
        page.wait_for_function(
            "document.documentElement.dataset.appWarm === 'true'", timeout=180_000
        )
        for _ in range(args.runs):
            page.reload()
            page.wait_for_function(
                "document.documentElement.dataset.appWarm === 'true'", timeout=180_000
            )
            ready = float(page.evaluate("document.documentElement.dataset.readyMs"))
            filled = float(page.evaluate("document.documentElement.dataset.warmMs"))
            record("start-up: ready (ms from navigation)", ready)
            record("start-up: dashboard filled in", filled)
            record("start-up: dashboard filled in, after ready", filled - ready)
            record(f"client list ({args.clients} clients)", navigate(page, "#/clients", "clients"))
            # A name no one has, then one that finds a few (one client in 80 is a José García).
            for query, label in (("Okafor", "no match"), ("garcia jo", "a few found")):
                since = timing_count(page)
                page.locator("#field-q").fill(query)
                page.locator("#field-q").press("Enter")
                record(
                    f"client search by name ({label})",
                    last_timing(page, "action:search-clients", since),
                )
            since = timing_count(page)
            page.get_by_role("button", name="Clear").click()  # the whole list again
            record(
                "client list again (Clear)",
                last_timing(page, "action:clear-client-search", since),
            )
            first = navigate(page, f"#/client-sessions?id={star}", "client-sessions")
            record("open client with 500 session logs: first time (+ code)", first)
            navigate(page, "#/clients", "clients")
            record(
                "open client with 500 session logs",
                navigate(page, f"#/client-sessions?id={star}", "client-sessions"),
            )
            since = timing_count(page)
            page.locator("#start-session").click()
            record(
                "new session log (prefilled draft saved)",
                last_timing(page, "action:start-session", since),
            )
            for _ in range(2):  # the second save is the steady-state figure
                since = timing_count(page)
                page.locator("#save-draft").click()
                saved = last_timing(page, "action:session-form", since)
            record("save a session log (click → screen updated)", saved)
            writes = page.evaluate(
                "window.medexTimings.filter(t => t[0] === 'save:session_logs').map(t => t[1])"
            )
            record("  of which the IndexedDB write (log + audit entry)", writes[-1])
            # No screening on file for this client: signing asks for the reason to go ahead.
            page.locator("#field-clearance_override_reason").evaluate(
                "(el) => { el.value = 'Screening booked for next week'; }"
            )
            since = timing_count(page)
            page.locator("#sign-log").click()
            record(
                "sign the session log (click → screen updated)",
                last_timing(page, "action:session-form", since),
            )
            flash = page.locator("#flash").inner_text()
            assert flash.startswith("Session log signed"), flash
            record("home screen after the signature", navigate(page, "#/", ""))
            for _ in range(2):
                mark = timing_count(page)
                interpreted = navigate(page, f"#/assessment?id={latest}", "assessment")
                if args.detail:
                    print(
                        "  assessment screen:",
                        page.evaluate("(n) => window.medexTimings.slice(n)", mark),
                    )
                navigate(page, "#/", "")
            record("interpret 20 measures × 30 assessments (+ charts)", interpreted)
            for _ in range(2):
                report = navigate(
                    page, f"#/document?kind=progress_report&client={star}", "document"
                )
                navigate(page, "#/", "")
            record("progress report", report)
        if args.backup:
            backup_and_restore(page, record)
        context.close()
    print(
        f"\nScale: {args.clients} clients, {args.logs} session logs ({size / 1e6:.0f} MB), headless Chromium"
    )
    for key, values in results.items():
        print(f"  {key:52s} {fmt(values)}")


if __name__ == "__main__":
    main()
