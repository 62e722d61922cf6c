"""The ICD-10-CM picker of the referral form: search the code list, add or remove a code; the
codes chosen so far. A component that owns its pieces: its form state (``icd:<client>`` for
the search, ``dx:<client>`` for the codes chosen), where the code list comes from
(``icd10_source``; tests put a small fixture there) and its context (``picker_context``)::

    await picker.search(app, client.id, "knee osteoarthritis")
    await picker.add(app, client.id, "M17.11")
    diagnoses = picker.chosen(app, client.id)
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from medex.icd10 import Icd10Index
from medex.services.intake import add_diagnosis

from .core import App


async def _browser_icd10() -> Icd10Index:
    from .icd10_loader import load_icd10_index  # browser only (uses js/pyodide)

    return await load_icd10_index()


# Where the ICD-10-CM index comes from; tests replace it with a small fixture.
icd10_source: Callable[[], Awaitable[Icd10Index]] = _browser_icd10


def _not_loaded(exc: Exception) -> str:
    return f"The ICD-10-CM code list could not be loaded: {exc}"


def chosen(app: App, client_id: str) -> list[dict[str, Any]]:
    """The codes chosen so far (``{"code", "description"}`` each)."""
    form = app.state.forms.get(f"dx:{client_id}")
    return list(form.values.get("diagnoses", [])) if form else []


def picker_context(app: App, client_id: str) -> dict[str, Any]:
    """What the referral section's picker shows: the search (``icd``) and the codes chosen."""
    icd = app.state.forms.get(f"icd:{client_id}")
    return {"icd": icd.values if icd else {}, "chosen": chosen(app, client_id)}


async def search(app: App, client_id: str, query: str) -> None:
    state = app.form(f"icd:{client_id}")
    state.values = {"query": query, "results": [], "message": ""}
    app.state.focus = "field-icd_query"
    if not query:
        state.values["message"] = "Type a code (e.g. M17.11) or words (e.g. knee osteoarthritis)"
        return
    try:
        index = await icd10_source()
    except Exception as exc:
        state.values["message"] = _not_loaded(exc)
        return
    results = index.search(query, limit=25)
    state.values["results"] = [r.model_dump() for r in results]
    if not results:
        state.values["message"] = f"No ICD-10-CM code matches '{query}'."


async def add(app: App, client_id: str, code: str) -> None:
    icd = app.form(f"icd:{client_id}")
    try:
        index = await icd10_source()
    except Exception as exc:
        icd.values = {**icd.values, "message": _not_loaded(exc)}
        return
    form = app.form(f"dx:{client_id}")
    codes, message = add_diagnosis(list(form.values.get("diagnoses", [])), code, index)
    form.values = {"diagnoses": codes}
    icd.values = {**icd.values, "message": message}
    app.state.focus = "field-icd_query"


def remove(app: App, client_id: str, code: str) -> None:
    form = app.form(f"dx:{client_id}")
    form.values = {"diagnoses": [d for d in chosen(app, client_id) if d["code"] != code]}


async def index_for_saving() -> Icd10Index | None:
    """The code list to re-check the chosen codes against when saving, or None when it cannot
    be loaded (the codes came from it: the referral is saved without re-checking)."""
    try:
        return await icd10_source()
    except Exception:
        return None


def forget(app: App, client_id: str) -> None:
    """After the referral was saved: the search and the codes chosen start afresh."""
    app.state.forms.pop(f"dx:{client_id}", None)
    app.state.forms.pop(f"icd:{client_id}", None)
