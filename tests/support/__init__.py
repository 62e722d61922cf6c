"""What the tests share, so no test module imports another (and the benchmarks and tools reuse
it instead of keeping copies):

- ``fakes``    — the one fake per boundary: ``FakeSigner`` (medex.signing.Signer),
                 ``FakePlatform`` (app.core.Platform; mypy checks it), and the named set-ups
                 ``FilePlatform`` / ``DataRepo`` used by the Data-screen tests;
- ``aio``      — ``run``: drive a domain coroutine over the in-memory repository to completion;
- ``pages``    — reading rendered HTML: ``Elements`` (text by id, inputs by name) and
                 ``FormData`` (what the browser would submit for one form);
- ``seeders``  — data: the practice profile form (``GOOD``), the ICD-10 test index
                 (``FIXTURE``), the typical client (``seed_typical_client``), the report-sized
                 client of the benchmarks, and intake through the screens (``full_intake``);
- ``backups``  — building backup documents: ``client_doc``, ``log_doc``, ``audit_chain`` and
                 ``apply`` (what the device holds after a restore plan);
- ``browser``  — the end-to-end helpers (Playwright pages: open the app, fill, export, dump).

Everything here except ``browser`` is pure Python and ships with tests/unit to the in-Pyodide
runner (build.py ``tests_zip``), so it must not import anything the browser lacks.
"""
