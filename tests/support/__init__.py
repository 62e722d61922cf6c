"""What the tests share, so test modules need not import one another (and the benchmarks and
tools reuse it instead of keeping copies):

- ``fakes``    — the one fake per boundary: ``FakeSigner`` (medex.signing.Signer),
                 ``FakePlatform`` (app.core.Platform; mypy checks it), and the named set-ups
                 ``FilePlatform`` / ``DataRepo`` used by the Data-screen tests;
- ``aio``      — ``run``: drive a domain coroutine over the in-memory repository to completion;
- ``pages``    — reading rendered HTML: ``Elements`` (text by id, inputs by name),
                 ``FormData`` (what the browser would submit for one form), ``Page``/``Form``
                 and ``assert_inert``;
- ``seeders``  — data: the practice profile form (``GOOD``), the ICD-10 test index
                 (``FIXTURE``), the typical client (``seed_typical_client``), the report-sized
                 client of the benchmarks, intake through the screens (``full_intake``),
                 and the session-log services' screened client (``repo_with_client``, ``draft``);
                 their practice, provider and post-TKR client are the app's demo practice
                 (``medex.demo``, the one seed of the first run's demo, the tests and the
                 benchmarks; ``seed_demo_practice`` builds all of it);
- ``practice`` — the demo practice, every record type built through the screens
                 (``build_practice``; the hostile-input sweep, ``crawl`` over every screen, and
                 tools/make_fixture_backup.py use it);
- ``screens``  — driving the session-log and document screens (``session_app``,
                 ``documents_app`` and their steps: ``start``, ``submit``, ``open_doc``, ``send``…);
- ``backups``  — building backup documents: ``client_doc``, ``log_doc``, ``audit_chain`` and
                 ``apply`` (what the device holds after a restore plan);
- ``browser``  — the end-to-end helpers (Playwright pages: open the app, fill, export, dump).

Everything here except ``browser`` is pure Python and ships with tests/unit to the in-Pyodide
runner (``buildtools/assemble.py`` ``tests_zip``), so it must not import what the browser lacks.
"""
