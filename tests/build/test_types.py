"""The type checker is part of the test run: mypy (pinned in pyproject.toml's test
requirements, which ``python3 build.py test`` installs; configured in ``[tool.mypy]``) over
``site/py`` and the test fakes must find no error. Run it alone with ``python3 -m mypy``."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_mypy_finds_no_type_error(tmp_path):
    done = subprocess.run(
        # A fresh cache: a stale one (another checkout, another mypy) can never hide an error.
        [sys.executable, "-m", "mypy", "--cache-dir", str(tmp_path), "--no-color-output"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, (
        "python3 -m mypy (configured in pyproject.toml) reports:\n" + done.stdout + done.stderr
    )
