"""The client list: every client with whether they are ready for a first session, searched
by name as the practitioner types and filtered by status, referring provider and readiness.

The list is made from the dashboard rows (``services.dashboard_rows``: one compact record per
client with their name, date of birth, status, referring provider and readiness, kept in step
with every write and already read by the home screen), prepared once as a search index
(``services.intake.ClientIndex``) and kept in the repository's ``memos`` until a row changes,
so a search rebuilds nothing::

    found = await client_list(repo, "lopez an", limit=100)
    found.clients, found.matches, found.total
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from pydantic import BaseModel

from ..dashboard_row import DashboardRow, RowFacts
from ..intake import STATUS_LABELS, Client, ClientStatus, age_on
from ..repository import Repository
from .dashboard_rows import home_rows
from .intake import ClientIndex


class ListedClient(BaseModel):
    """What the client list shows of a client (from the client's dashboard row)."""

    id: str
    first_name: str
    last_name: str
    date_of_birth: date | None = None
    status: ClientStatus = ClientStatus.REFERRED
    provider_id: str | None = None

    @property
    def sort_name(self) -> str:
        return f"{self.last_name}, {self.first_name}"

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]

    def age(self, today: date) -> int | None:
        return age_on(self.date_of_birth, today) if self.date_of_birth is not None else None

    @classmethod
    def of(cls, row: RowFacts) -> ListedClient:
        return cls.model_construct(  # the row's fields, validated when the row was read
            id=row.client_id,
            first_name=row.first_name,
            last_name=row.last_name,
            date_of_birth=row.date_of_birth,
            status=ClientStatus(row.status),
            provider_id=row.provider_id or None,
        )


@dataclass
class ClientList:
    """The client list as searched: the clients shown (by last name, at most the limit asked
    for), how many match the search in all, how many clients there are, and whether each one
    shown is ready for a first session."""

    clients: list[ListedClient]
    total: int
    ready: dict[str, bool]
    matches: int = 0


# What the prepared list is made from: the dashboard rows, written in the same transaction as
# every change to a client or to a record their readiness depends on (and the clients, for
# good measure). A write to either, in this tab or another, prepares it again.
LIST_STORES = (Client.store, DashboardRow.store)
LIST_MEMO = "client-list"


async def prepared_clients(repo: Repository) -> ClientIndex[ListedClient]:
    """Every client in the search index with their readiness, prepared once and reused (the
    repository's ``memos``) until a record it is made from changes: a search as the
    practitioner types rebuilds nothing."""
    stamp = repo.stamp(LIST_STORES)
    memo = repo.memos.get(LIST_MEMO)
    if memo is not None and memo[0] == stamp:
        return memo[1]
    rows = [row for row in await home_rows(repo) if row.on_file]
    index = ClientIndex.build(
        (ListedClient.of(row) for row in rows), {row.client_id: row.ready for row in rows}
    )
    if repo.stamp(LIST_STORES) == stamp:  # nothing was written while it was read
        repo.memos[LIST_MEMO] = (stamp, index)
    return index


async def client_list(
    repo: Repository,
    query: str = "",
    status: str = "",
    provider_id: str = "",
    not_ready_only: bool = False,
    limit: int | None = None,
) -> ClientList:
    """Clients whose name matches ``query`` (``ClientIndex.search``), with a status and a
    referring provider if given; ``not_ready_only``: only those not ready for a first session;
    ``limit``: at most that many of them (the count of matches stays exact)."""
    index = await prepared_clients(repo)
    found, matches = index.find(query, status, provider_id, not_ready_only, limit)
    ready = {c.id: index.ready.get(c.id, False) for c in found}
    return ClientList(found, len(index.entries), ready, matches)
