"""The records derived from others, as the repository's ``derived`` writes (installed by
``medex.services``): the client summaries (``services.summaries``), then the dashboard rows
made from them (``services.dashboard_rows``), in the same transaction as the write.

The rows' module is imported at the first write, not with this package: it needs most of the
domain, too much to import before the app is interactive.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..client_summary import ClientSummary
from .summaries import INPUTS, dropped_by_raw_write, summary_ops

if TYPE_CHECKING:
    from ..repository import Repository


class DerivedRecords:
    async def for_save(self, repo: Repository, puts: list[dict]) -> list[dict]:
        from .dashboard_rows import row_ops

        fresh: dict[str, ClientSummary] = {}
        ops = await summary_ops(repo, puts, fresh_out=fresh)
        return ops + await row_ops(repo, puts, [], fresh)

    async def for_delete(self, repo: Repository, store: str, record_id: str) -> list[dict]:
        from .dashboard_rows import deleted_client, row_ops

        client_id = await deleted_client(repo, store, record_id)
        deleted = [(store, record_id, client_id)]
        fresh: dict[str, ClientSummary] = {}
        ops = await summary_ops(repo, [], deleted, fresh_out=fresh) if store in INPUTS else []
        return ops + await row_ops(repo, [], deleted, fresh)

    async def for_raw_write(self, repo: Repository, ops: list[dict]) -> list[dict]:
        from .dashboard_rows import rows_dropped_by_raw_write

        return await rows_dropped_by_raw_write(repo, await dropped_by_raw_write(repo, ops))
