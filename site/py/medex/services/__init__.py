"""Use cases, one module per capability. They take a repository and return results."""

from ..repository import AuditedRepository
from .derived import DerivedRecords

# Every repository's writes carry the client summaries and dashboard rows they change
# (``services.summaries``, ``services.dashboard_rows``).
AuditedRepository.derived = DerivedRecords()
