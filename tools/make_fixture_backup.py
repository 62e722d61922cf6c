"""Write the frozen backup fixture of this release (the restore tests read it).

    python tools/make_fixture_backup.py            # writes tests/unit/fixtures/backup-format1-app<version>.json
    python tools/make_fixture_backup.py --check    # exit 1 if the file would change

A small but complete practice (every record type, signed session logs with an addendum, the
audit chain) is built through the app's own screen actions, with record ids and clocks fixed
so the file is the same on every run. Once a release ships, its file is never regenerated:
tests/unit/test_fixture_restore.py restores every file in tests/unit/fixtures/ into the
current build. (The fixtures live under tests/unit/ so the in-Pyodide test runner, which
ships tests/unit only, restores them too.)
"""

from __future__ import annotations

import json
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "site" / "py"), str(ROOT)]

from medex import APP_VERSION, audit, backup, records  # noqa: E402
from medex.backup import FORMAT_VERSION, make_backup  # noqa: E402
from medex.services import data as data_service  # noqa: E402

FIXTURES = ROOT / "tests" / "unit" / "fixtures"
START = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
TEXT = "Fixture text, format 1"


class _Clock(datetime):
    """datetime whose now() ticks one second per call from START."""

    ticks = 0

    @classmethod
    def now(cls, tz=None):
        cls.ticks += 1
        moment = START + timedelta(seconds=cls.ticks)
        return moment if tz is not None else moment.replace(tzinfo=None)


def fixture_text() -> str:
    from app import core
    from tests.support.aio import run
    from tests.support.fakes import DataRepo, FakePlatform
    from tests.support.practice import build_practice, fixed_day

    counter = iter(range(1, 1_000_000))
    saved_uuid4 = uuid.uuid4
    modules = (records, audit, data_service, backup)
    saved = [(m, m.datetime) for m in modules]
    uuid.uuid4 = lambda: uuid.UUID(int=(0x4000 << 64) | (0x8 << 60) | next(counter))
    for module in modules:
        module.datetime = _Clock
    _Clock.ticks = 0
    try:
        with fixed_day():
            app = core.App(DataRepo(), FakePlatform())
            run(app.load())
            app.navigate("#/")
            build_practice(app, TEXT)
            repo = app.repo
            stores = {s: [json.loads(t) for t in d.values()] for s, d in repo.stores.items()}
            meta = data_service.backup_meta({k: json.loads(v) for k, v in repo.meta.items()})
            return make_backup(stores, repo.audit, meta, APP_VERSION, START + timedelta(days=1))
    finally:
        uuid.uuid4 = saved_uuid4
        for module, value in saved:
            module.datetime = value


def main(argv: list[str]) -> int:
    path = FIXTURES / f"backup-format{FORMAT_VERSION}-app{APP_VERSION}.json"
    text = fixture_text() + "\n"
    if "--check" in argv:
        same = path.is_file() and path.read_text() == text
        print(f"{path.relative_to(ROOT)}: {'unchanged' if same else 'WOULD CHANGE'}")
        return 0 if same else 1
    FIXTURES.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    print(f"wrote {path.relative_to(ROOT)} ({len(text):,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
