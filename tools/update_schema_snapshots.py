"""Regenerate tests/unit/schemas/<store>.json from the persisted models (then commit them).

python tools/update_schema_snapshots.py
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "site" / "py"), str(ROOT)]

from tests.unit.test_schema_snapshots import update  # noqa: E402

if __name__ == "__main__":
    for path in update():
        print("wrote", path.relative_to(ROOT))
