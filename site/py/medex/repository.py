"""The Repository protocol the domain services use, and an in-memory implementation for tests.

The browser shell implements the same protocol over IndexedDB (``app.browser``). Records
cross the boundary as JSON documents; every ``save`` of several records is one transaction.
"""

from __future__ import annotations

import copy
import json
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel

from .records import Record

R = TypeVar("R", bound=Record)
B = TypeVar("B", bound=BaseModel)


class StorageFullError(Exception):
    """The device refused the write (IndexedDB QuotaExceededError). Nothing was written."""


class Repository(Protocol):
    async def get(self, model: type[R], record_id: str) -> R | None: ...

    async def list(self, model: type[R]) -> list[R]: ...

    async def find(self, model: type[R], field: str, value: str) -> list[R]:
        """Records whose indexed ``field`` equals ``value`` (e.g. a client's session logs)."""
        ...

    async def project(self, model: type[B], store: str) -> list[B]:
        """Every record of ``store`` reduced to the fields of ``model`` (a summary model such
        as SessionLogSummary): what a dashboard needs without parsing whole records."""
        ...

    async def save(self, *records: Record) -> None:
        """Write all records in one transaction: all are stored, or none."""
        ...

    async def delete(self, model: type[Record], record_id: str) -> None: ...

    async def get_meta(self, key: str) -> Any: ...

    async def set_meta(self, key: str, value: Any) -> None: ...


def to_documents(records: tuple[Record, ...]) -> list[dict]:
    for record in records:
        if not record.store:
            raise TypeError(f"{type(record).__name__} has no store")
    return [{"store": r.store, "doc": r.to_doc()} for r in records]


class InMemoryRepository:
    """Repository over dicts, storing JSON text exactly as IndexedDB would store documents."""

    def __init__(self) -> None:
        self.stores: dict[str, dict[str, str]] = {}
        self.meta: dict[str, str] = {}
        self.fail_next_write: Exception | None = None
        self.writes = 0

    async def get(self, model: type[R], record_id: str) -> R | None:
        text = self.stores.get(model.store, {}).get(record_id)
        return model.model_validate_json(text) if text is not None else None

    async def list(self, model: type[R]) -> list[R]:
        return [model.model_validate_json(t) for t in self.stores.get(model.store, {}).values()]

    async def find(self, model: type[R], field: str, value: str) -> list[R]:
        found = []
        for text in self.stores.get(model.store, {}).values():
            doc = json.loads(text)
            if doc.get(field) == value:
                found.append(model.model_validate(doc))
        return found

    async def project(self, model: type[B], store: str) -> list[B]:
        fields = set(model.model_fields)
        return [
            model.model_validate({k: v for k, v in json.loads(text).items() if k in fields})
            for text in self.stores.get(store, {}).values()
        ]

    async def save(self, *records: Record) -> None:
        docs = to_documents(records)
        if self.fail_next_write is not None:
            exc, self.fail_next_write = self.fail_next_write, None
            raise exc
        staged = copy.deepcopy(self.stores)
        for item in docs:
            staged.setdefault(item["store"], {})[item["doc"]["id"]] = json.dumps(item["doc"])
        self.stores = staged
        self.writes += 1

    async def delete(self, model: type[Record], record_id: str) -> None:
        self.stores.get(model.store, {}).pop(record_id, None)

    async def get_meta(self, key: str) -> Any:
        text = self.meta.get(key)
        return json.loads(text) if text is not None else None

    async def set_meta(self, key: str, value: Any) -> None:
        self.meta[key] = json.dumps(value)
