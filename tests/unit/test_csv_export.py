"""Outcomes CSV (medex.csv_export): one row per measurement, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io

import pytest

from medex.csv_export import (
    COLUMNS,
    OutcomeRow,
    outcomes_csv,
    protocol_summary,
    rows_from_documents,
    safe_cell,
)
from medex.measures import CATALOGUE, CustomMeasure

CLIENT = {"id": "c1", "first_name": "Ada", "last_name": "Lovelace"}


def read(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+44 20 7946 0000", "'+44 20 7946 0000"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("\t=cmd", "'\t=cmd"),
        ("\r=cmd", "'\r=cmd"),
        ('=HYPERLINK("http://evil","click")', '\'=HYPERLINK("http://evil","click")'),
        ("Ada", "Ada"),
        ("a=b", "a=b"),
        ("", ""),
    ],
)
def test_text_cells_that_a_spreadsheet_would_run_as_formulas_are_prefixed(value, expected):
    assert safe_cell(value) == expected


def test_numbers_are_never_prefixed_so_a_negative_value_stays_a_number():
    row = OutcomeRow("c1", "Ada", "a1", "2025-01-01", "baseline", "m", "M", -3.5, "s")
    assert read(outcomes_csv([row]))[1][7] == "-3.5"
    assert safe_cell(-2) == -2


def test_an_injection_attempt_in_a_client_name_is_neutralised_in_the_file():
    row = OutcomeRow("c1", "=cmd|' /C calc'!A0", "a1", "2025-01-01", "baseline", "m", "M", 1, "s")
    cells = read(outcomes_csv([row]))[1]
    assert cells[1] == "'=cmd|' /C calc'!A0"


def test_the_header_row_and_crlf_line_ends():
    text = outcomes_csv([], bom=False)
    assert text == ",".join(COLUMNS) + "\r\n"
    assert outcomes_csv([]).startswith("\ufeff")


def test_commas_quotes_and_newlines_are_quoted():
    row = OutcomeRow("c1", 'Smith, "Bo"', "a1", "2025-01-01", "baseline", "m", "M", 1, "s", "a\nb")
    assert read(outcomes_csv([row]))[1][1] == 'Smith, "Bo"'
    assert read(outcomes_csv([row]))[1][9] == "a\nb"


def test_one_row_per_measurement_from_stored_documents():
    chair = next(iter(CATALOGUE))
    custom = CustomMeasure(name="Stairs climbed", unit="flights", direction="higher_is_better")
    assessments = [
        {
            "id": "a2",
            "client_id": "c1",
            "assessed_on": "2025-03-01",
            "kind": "reassessment",
            "measurements": [
                {"measure_id": chair, "value": 12.0, "side": "left"},
                {"measure_id": custom.measure_id, "value": 3},
            ],
        },
        {
            "id": "a1",
            "client_id": "c1",
            "date": "2025-01-01",
            "type": "baseline",
            "results": {chair: {"value": 9}, "unknown_x": 4.25, "skipped": None},
        },
    ]
    rows = rows_from_documents([CLIENT], assessments, [custom.to_doc()])
    assert [(r.assessment_date, r.kind, r.measure_id, r.value) for r in rows] == [
        ("2025-01-01", "baseline", chair, 9),
        ("2025-01-01", "baseline", "unknown_x", 4.25),
        ("2025-03-01", "reassessment", chair, 12.0),
        ("2025-03-01", "reassessment", custom.measure_id, 3),
    ]
    assert rows[0].client_name == "Ada Lovelace"
    assert rows[0].measure_name == CATALOGUE[chair].name and rows[0].unit == CATALOGUE[chair].unit
    assert rows[3].measure_name == "Stairs climbed" and rows[3].unit == "flights"
    assert rows[2].protocol == "Side: left"
    cells = read(outcomes_csv(rows))
    assert len(cells) == 5 and cells[3][7] == "12"


def test_protocol_summary_uses_the_catalogue_labels_and_units():
    measure = next(m for m in CATALOGUE.values() if m.protocol)
    spec = measure.protocol[0]
    value = spec.choices[0] if spec.choices else 17
    text = protocol_summary({spec.key: value, "other_thing": True, "blank": ""}, measure)
    assert text.startswith(f"{spec.label}: {value}")
    assert text.endswith("Other thing: yes")
    assert protocol_summary({}) == ""
