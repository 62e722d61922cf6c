"""Use cases, one module per capability. They take a repository and return results."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..repository import AuditedRepository

if TYPE_CHECKING:
    from .derived import DerivedRecords


class _DerivedOnFirstWrite:
    """The derived writes (``services.derived``), imported at the first write: they need the
    client summaries and most of the domain, which the first screen does not."""

    _records: DerivedRecords | None = None

    def _load(self) -> DerivedRecords:
        if self._records is None:
            from .derived import DerivedRecords

            self._records = DerivedRecords()
        return self._records

    async def for_save(self, repo: Any, puts: list[dict]) -> list[dict]:
        return await self._load().for_save(repo, puts)

    async def for_delete(self, repo: Any, store: str, record_id: str) -> list[dict]:
        return await self._load().for_delete(repo, store, record_id)

    async def for_raw_write(self, repo: Any, ops: list[dict]) -> list[dict]:
        return await self._load().for_raw_write(repo, ops)


# Every repository's writes carry the client summaries and dashboard rows they change
# (``services.summaries``, ``services.dashboard_rows``).
AuditedRepository.derived = _DerivedOnFirstWrite()
