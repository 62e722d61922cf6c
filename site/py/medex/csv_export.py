"""Outcomes as CSV for the practitioner's own analysis: one row per measurement.

Columns: client id, client name, assessment id, assessment date, kind (baseline /
reassessment / discharge), measure id, measure name, value, unit, protocol summary.

Spreadsheet formula injection: a text cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return is prefixed with an apostrophe so Excel/LibreOffice/Sheets show it as text
(OWASP "CSV Injection"). Numbers the app writes itself (the value column) are never prefixed,
so a negative change stays a number.

``rows_from_documents`` reads stored documents: ``assessments.Assessment`` (``assessed_on``,
``kind``, ``measurements: [{"measure_id", "value", "protocol", "side"}]``), and tolerates
older/other spellings (``date``, ``type``, ``results`` as a list or a dict keyed by measure).
Assessment vitals are not measurements and are not exported.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .measures import CATALOGUE, CustomMeasure, MeasureDefinition

COLUMNS: tuple[str, ...] = (
    "client_id",
    "client_name",
    "assessment_id",
    "assessment_date",
    "kind",
    "measure_id",
    "measure_name",
    "value",
    "unit",
    "protocol",
)

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> str | int | float:
    """A cell a spreadsheet will not run as a formula: text starting with = + - @ (or a tab /
    carriage return) gets a leading apostrophe. Numbers pass through untouched."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        return value
    text = str(value)
    if text.startswith(_FORMULA_START):
        return "'" + text
    return text


def format_value(value: Any) -> str | float | int:
    """A measured value as a plain number (12, 5.6, -3.25); anything else as safe text."""
    if isinstance(value, bool):
        return safe_cell(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            return ""
        return int(value) if value.is_integer() else value
    return safe_cell(value)


@dataclass(frozen=True)
class OutcomeRow:
    client_id: str
    client_name: str
    assessment_id: str
    assessment_date: str
    kind: str
    measure_id: str
    measure_name: str
    value: Any
    unit: str
    protocol: str = ""

    def cells(self) -> list[Any]:
        return [
            safe_cell(self.client_id),
            safe_cell(self.client_name),
            safe_cell(self.assessment_id),
            safe_cell(self.assessment_date),
            safe_cell(self.kind),
            safe_cell(self.measure_id),
            safe_cell(self.measure_name),
            format_value(self.value),
            safe_cell(self.unit),
            safe_cell(self.protocol),
        ]


def outcomes_csv(rows: Iterable[OutcomeRow], *, bom: bool = True) -> str:
    """The CSV text (RFC 4180: CRLF line ends, quotes where needed). ``bom`` starts it with a
    UTF-8 byte-order mark so Excel reads accented names correctly."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow(row.cells())
    return ("\ufeff" if bom else "") + buffer.getvalue()


# ---------------------------------------------------------------------------------------------
# From stored documents
# ---------------------------------------------------------------------------------------------


def _first(doc: Mapping[str, Any], *keys: str, default: Any = "") -> Any:
    for key in keys:
        if doc.get(key) not in (None, ""):
            return doc[key]
    return default


def _measure_lookup(
    custom_measures: Iterable[CustomMeasure | Mapping[str, Any]],
) -> dict[str, MeasureDefinition]:
    lookup: dict[str, MeasureDefinition] = dict(CATALOGUE)
    for item in custom_measures:
        measure = item if isinstance(item, CustomMeasure) else CustomMeasure.model_validate(item)
        lookup[measure.measure_id] = measure.to_definition()
    return lookup


def protocol_summary(protocol: Any, measure: MeasureDefinition | None = None) -> str:
    """'Chair height: 17 in; Arms used: no' from a protocol dict, with the catalogue's labels."""
    if not protocol:
        return ""
    if not isinstance(protocol, Mapping):
        return str(protocol)
    fields = {f.key: f for f in measure.protocol} if measure else {}
    parts = []
    for key, value in protocol.items():
        if value in (None, ""):
            continue
        spec = fields.get(key)
        label = spec.label if spec else str(key).replace("_", " ").capitalize()
        if isinstance(value, bool):
            shown = "yes" if value else "no"
        elif isinstance(value, float) and value.is_integer():
            shown = str(int(value))
        else:
            shown = str(value)
        unit = f" {spec.unit}" if spec and spec.unit and not isinstance(value, bool) else ""
        parts.append(f"{label}: {shown}{unit}")
    return "; ".join(parts)


def _measurements(doc: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    raw = _first(doc, "results", "measurements", "values", default=[])
    if isinstance(raw, Mapping):
        return [
            {"measure_id": k, **(v if isinstance(v, Mapping) else {"value": v})}
            for k, v in raw.items()
        ]
    return [m for m in raw if isinstance(m, Mapping)] if isinstance(raw, list) else []


def rows_from_documents(
    clients: Iterable[Mapping[str, Any]],
    assessments: Iterable[Mapping[str, Any]],
    custom_measures: Iterable[CustomMeasure | Mapping[str, Any]] = (),
) -> list[OutcomeRow]:
    """One row per measurement, ordered by client name, assessment date, then measure."""
    names = {
        c["id"]: f"{c.get('first_name', '')} {c.get('last_name', '')}".strip() for c in clients
    }
    lookup = _measure_lookup(custom_measures)
    rows: list[OutcomeRow] = []
    for doc in assessments:
        client_id = str(doc.get("client_id", ""))
        when = str(_first(doc, "assessed_on", "date", "performed_on"))
        kind = _first(doc, "kind", "type")
        kind = str(getattr(kind, "value", kind))
        for m in _measurements(doc):
            measure_id = str(m.get("measure_id", ""))
            measure = lookup.get(measure_id)
            value = _first(m, "value", "score")
            if value == "":
                continue  # not measured
            rows.append(
                OutcomeRow(
                    client_id=client_id,
                    client_name=names.get(client_id, ""),
                    assessment_id=str(doc.get("id", "")),
                    assessment_date=when,
                    kind=kind,
                    measure_id=measure_id,
                    measure_name=measure.name if measure else str(m.get("name", measure_id)),
                    value=value,
                    unit=measure.unit if measure else str(m.get("unit", "")),
                    protocol="; ".join(
                        t
                        for t in (
                            f"Side: {m['side']}" if m.get("side") else "",
                            protocol_summary(m.get("protocol"), measure),
                        )
                        if t
                    ),
                )
            )
    rows.sort(key=lambda r: (r.client_name.lower(), r.client_id, r.assessment_date, r.measure_id))
    return rows
