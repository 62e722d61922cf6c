"""Use cases, one module per capability. They take a repository and return results."""

from ..repository import AuditedRepository
from .summaries import ClientSummaries

# Every repository's writes carry the client summaries they change (``services.summaries``).
AuditedRepository.derived = ClientSummaries()
