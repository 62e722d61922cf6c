"""Run a domain coroutine to completion without an event loop.

The in-memory repository never waits on I/O, so a service coroutine finishes on its first
step. This works the same under CPython and inside Pyodide (where asyncio.run() cannot be
used because the browser's event loop is already running).
"""


def run(coro):
    try:
        coro.send(None)
    except StopIteration as stop:
        return stop.value
    coro.close()
    raise RuntimeError("The coroutine waited on real I/O; in-memory tests must not.")
