"""The document forms' binders: field names → the documents use cases' commands. The send
fields of a document form are named ``_channel`` and ``_sent_on`` (an underscore keeps them
apart from the document's own wording fields)::

    bound = bind_send(data, vm, html, reviewed, clock.today())
    await mark_sent(app.repo, bound.command)   # Refused → refuse(..., bound.field)
"""

from __future__ import annotations

from datetime import date
from typing import Any

from medex.services.documents import MarkAcknowledged, MarkSent, SaveDocumentSettings

from .forms import Bound, checked, text, texts


def bind_settings(data: dict[str, Any]) -> Bound[SaveDocumentSettings]:
    fields = texts(data, ("paper", "scope_statement", "scope_words", "cpt_code"))
    command = SaveDocumentSettings(
        **fields,
        show_npi_on_superbill=checked(data, "show_npi_on_superbill"),
        service_description=text(data, "service_description"),
    )
    return Bound(command)


def _send_field(name: str) -> str:
    return name if name == "__all__" else f"_{name}"


def bind_send(
    data: dict[str, Any], vm: dict[str, Any], html: str, scope_reviewed: list[str], today: date
) -> Bound[MarkSent]:
    """The document as rendered, and how and when it was sent."""
    command = MarkSent(
        document=vm,
        html=html,
        channel=text(data, "_channel"),
        sent_on=text(data, "_sent_on"),
        today=today,
        scope_reviewed=scope_reviewed,
    )
    return Bound(command, _send_field)


def bind_acknowledged(data: dict[str, Any], today: date) -> Bound[MarkAcknowledged]:
    command = MarkAcknowledged(
        communication_id=text(data, "communication_id"),
        on=text(data, "acknowledged_on"),
        today=today,
    )
    return Bound(command)
