"""What `build.py test` installs before it runs the tests, on a fresh Debian machine.

Debian packages through apt-get (Chromium for the end-to-end tests, Firefox ESR and WebKitGTK's
WebDriver under Xvfb for the other engines' journeys, fonts, poppler for the PDF checks; only
those missing, with sudo when not root) and the Python test requirements
from pyproject.toml through pip. Playwright never downloads a browser of its own.
"""

from __future__ import annotations

import os
import subprocess
import sys

from buildtools.common import ROOT, log

APT_PACKAGES = [
    "chromium",
    "fonts-dejavu-core",
    "fonts-liberation",
    "poppler-utils",
    # The other engines' journeys (tests/engines): Firefox ESR (driven over Marionette), and
    # WebKitGTK's WebDriver with the MiniBrowser it drives, on an Xvfb display.
    "firefox-esr",
    "webkit2gtk-driver",
    "xvfb",
]


def install_test_requirements() -> None:
    missing = [
        p
        for p in APT_PACKAGES
        if subprocess.run(["dpkg", "-s", p], capture_output=True).returncode != 0
    ]
    if missing:
        log(f"installing Debian packages: {' '.join(missing)}")
        sudo = [] if os.geteuid() == 0 else ["sudo"]
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run([*sudo, "apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run(
            [*sudo, "apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing],
            check=True,
            env=env,
        )
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = [*project["dependencies"], *project["optional-dependencies"]["test"]]
    log("installing Python test requirements: " + " ".join(requirements))
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--disable-pip-version-check",
            *requirements,
        ],
        check=True,
    )
