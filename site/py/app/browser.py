"""The browser side of the shell: IndexedDB repository, device platform, DOM patching."""

from __future__ import annotations

import functools
import json
from typing import Any

import js
from pydantic import TypeAdapter
from pyodide.ffi import JsException, to_js
from pyscript.js_modules import idiomorph, medex_store

from medex.records import Record
from medex.repository import R, StorageFullError, to_documents

LOGO_MAX_PX = 600


def _is_quota_error(exc: BaseException) -> bool:
    return "QuotaExceededError" in f"{getattr(exc, 'name', '')} {exc}"


@functools.cache
def _list_adapter(model: type[R]) -> TypeAdapter[list[R]]:
    # One pydantic-core call parses and validates a whole store's JSON text (no per-record
    # json.loads + model_validate round trips in Python).
    return TypeAdapter(list[model])


class IndexedDbRepository:
    """The Repository protocol over the Dexie facade in js/store.js (one call = one transaction)."""

    async def get(self, model: type[R], record_id: str) -> R | None:
        text = await medex_store.get(model.store, record_id)
        return model.model_validate_json(text) if text is not None else None

    async def list(self, model: type[R]) -> list[R]:
        return _list_adapter(model).validate_json(await medex_store.getAll(model.store))

    async def find(self, model: type[R], field: str, value: str) -> list[R]:
        return _list_adapter(model).validate_json(
            await medex_store.where(model.store, field, value)
        )

    async def save(self, *records: Record) -> None:
        try:
            await medex_store.write(json.dumps(to_documents(records)))
        except JsException as exc:
            if _is_quota_error(exc):
                raise StorageFullError(str(exc)) from exc
            raise

    async def delete(self, model: type[Record], record_id: str) -> None:
        await medex_store.write(json.dumps([{"store": model.store, "delete": record_id}]))

    async def get_meta(self, key: str) -> Any:
        text = await medex_store.getMeta(key)
        return json.loads(text) if text is not None else None

    async def set_meta(self, key: str, value: Any) -> None:
        await medex_store.setMeta(key, json.dumps(value))


class BrowserPlatform:
    async def storage_info(self) -> dict[str, Any]:
        return json.loads(await medex_store.storageInfo())

    async def request_persistent_storage(self) -> bool:
        try:
            return bool(await medex_store.requestPersist())
        except JsException:
            return False


def patch(root, html: str) -> None:
    """Morph the new HTML into the page so focus, caret and scroll survive a re-render."""
    idiomorph.Idiomorph.morph(
        root, html, to_js({"morphStyle": "innerHTML"}, dict_converter=js.Object.fromEntries)
    )


def form_values(form) -> dict[str, Any]:
    """Named fields of a form as plain Python values (files are handled separately)."""
    data: dict[str, Any] = {}
    for element in form.elements:
        name = element.name
        if not name or element.disabled:
            continue
        kind = str(element.type)
        if kind == "file":
            continue
        if kind == "checkbox":
            if element.checked:
                data[name] = element.value if element.value not in ("", "on") else True
        elif kind == "radio":
            if element.checked:
                data[name] = element.value
        elif kind in ("submit", "button", "reset"):
            continue
        else:
            data[name] = str(element.value)
    return data


async def picked_images(form) -> dict[str, str]:
    """Images chosen in the form's ``input[type=file][data-image]`` fields, scaled down, as
    ``{"<name>_data_url": "data:image/png;base64,…"}``; an unreadable file gives
    ``{"<name>_error": message}`` for the action to show next to its field."""
    found: dict[str, str] = {}
    for field in form.querySelectorAll("input[type=file][data-image]"):
        if field.files.length == 0:
            continue
        name = str(field.name)
        try:
            found[f"{name}_data_url"] = str(
                await medex_store.imageToDataUrl(field.files.item(0), LOGO_MAX_PX)
            )
        except JsException:
            found[f"{name}_error"] = "This image could not be read. Choose a PNG or JPEG file."
    return found
