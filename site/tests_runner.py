# Runs tests/unit (the pure domain tests) with pytest inside Pyodide and reports the result
# on <html data-tests-done data-tests-exit-code> for the e2e test that drives this page.
import io
import sys
import zipfile

import js
import pyodide_js
from pyodide.http import pyfetch

html = js.document.documentElement
status = js.document.getElementById("status")
report = js.document.getElementById("report")

try:
    await pyodide_js.loadPackage(%APP_PACKAGES% + ["pytest"])
    response = await pyfetch("tests/unit-tests.zip")
    zipfile.ZipFile(io.BytesIO(await response.bytes())).extractall("/tmp/medex-tests")
    sys.path.insert(0, "/tmp/medex-tests")
    # The app's modules from their sources (the app wheel ships bytecode only; some tests read
    # the sources), with the wheel's templates and screens manifest beside them.
    sys.path.insert(0, "/tmp/medex-tests/app-sources")
    import pytest

    status.textContent = "Running…"
    out = io.StringIO()
    sys.stdout, real_stdout = out, sys.stdout
    try:
        code = pytest.main(["-q", "-p", "no:cacheprovider", "--color=no", "-rs", "/tmp/medex-tests/tests/unit"])
    finally:
        sys.stdout = real_stdout
    report.textContent = out.getvalue()
    status.textContent = f"pytest exit code {int(code)} under Python {sys.version.split()[0]}"
    html.dataset.testsExitCode = str(int(code))
except Exception as exc:  # noqa: BLE001
    import traceback

    report.textContent = traceback.format_exc()
    status.textContent = f"The test runner failed: {exc}"
    html.dataset.testsExitCode = "runner-error"
html.dataset.testsDone = "true"
