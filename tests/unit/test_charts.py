"""The per-measure SVG chart: structure, norm band, cut-off, baseline, direction, escaping."""

import re
from datetime import date
from xml.etree import ElementTree

from medex.charts import chart_for_row, measure_chart, nice_ticks
from medex.measures import CustomMeasure
from medex.outcomes import interpret

NS = "{http://www.w3.org/2000/svg}"
HIST = [(date(2025, 1, 6), 8), (date(2025, 2, 17), 10), (date(2025, 3, 31), 12)]


def parse(svg):
    return ElementTree.fromstring(svg)


def test_chart_is_well_formed_scalable_and_accessible():
    svg = measure_chart("chair_stand_30s", HIST, 72, "female")
    root = parse(svg)
    assert root.tag == f"{NS}svg"
    assert root.get("viewBox") == "0 0 640 320"
    assert root.get("width") is None and root.get("height") is None
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "chart-chair-stand-30s-title chart-chair-stand-30s-desc"
    assert root.find(f"{NS}title").text == "30-Second Chair Stand"
    desc = root.find(f"{NS}desc").text
    assert "Jan 6, 2025 8; Feb 17, 2025 10; Mar 31, 2025 12" in desc  # the documents' date format
    assert "Normal range, women 70–74: 10–15 stands" in desc


def test_norm_band_shaded_between_the_published_limits():
    """Rikli & Jones women 70–74: 10–15 stands → the band spans y(15)..y(10)."""
    root = parse(measure_chart("chair_stand_30s", HIST, 72, "female"))
    band = root.find(f".//{NS}rect[@class='norm-band']")
    assert band is not None
    ticks = {
        t.text: float(t.get("y")) - 4
        for t in root.find(f"{NS}g[@class='y-axis']").iter(f"{NS}text")
    }
    assert abs(float(band.get("y")) - ticks["15"]) < 0.11
    assert abs(float(band.get("y")) + float(band.get("height")) - ticks["10"]) < 0.11


def test_cutoff_line_labelled_for_age_and_sex():
    """STEADI women 70–74: at risk if < 10."""
    svg = measure_chart("chair_stand_30s", HIST, 72, "female")
    labels = [
        "".join(t.itertext())
        for t in parse(svg).iter(f"{NS}text")
        if t.get("class") == "cutoff-label"
    ]
    assert "At risk for falls< 10 stands" in labels
    assert len(parse(svg).findall(f".//{NS}line[@class='cutoff']")) == 2  # + Rikli < 8


def test_baseline_marked_and_values_labelled():
    root = parse(measure_chart("chair_stand_30s", HIST, 72, "female"))
    baseline = root.find(f".//{NS}g[@class='baseline']")
    assert "".join(baseline.itertext()) == "Baseline"
    values = [t.text for t in root.iter(f"{NS}text") if t.get("class") == "value"]
    assert values == ["8", "10", "12"]
    assert root.find(f".//{NS}polyline[@class='series']") is not None


def test_direction_noted():
    up = parse(measure_chart("chair_stand_30s", HIST, 72, "female"))
    down = parse(measure_chart("tug", [(date(2025, 1, 6), 14.0)], 72, "female"))
    assert [t.text for t in up.iter(f"{NS}text") if t.get("class") == "direction"] == [
        "Higher is better"
    ]
    assert [t.text for t in down.iter(f"{NS}text") if t.get("class") == "direction"] == [
        "Lower is better"
    ]


def test_no_norm_band_without_age():
    svg = measure_chart("chair_stand_30s", HIST)
    assert 'class="norm-band"' not in svg


def test_deterministic_output():
    assert measure_chart("tug", HIST, 72, "female") == measure_chart("tug", HIST, 72, "female")


def test_hostile_custom_measure_name_and_unit_escaped():
    cm = CustomMeasure(
        name='<script>alert("x")</script> & co',
        unit="<b>m</b>",
        direction="higher_is_better",
    )
    svg = measure_chart(cm, HIST, chart_id='x" onload="evil')
    assert "<script>" not in svg and "<b>" not in svg
    assert "&lt;script&gt;" in svg and "&amp; co" in svg
    root = parse(svg)  # still well-formed
    assert root.find(f"{NS}title").text == '<script>alert("x")</script> & co'
    assert re.fullmatch(r"[a-z0-9-]+-title [a-z0-9-]+-desc", root.get("aria-labelledby"))
    assert "onload" not in "".join(root.attrib.values()).replace("onload-evil", "")


def test_empty_history_says_not_assessed():
    root = parse(measure_chart("tug", []))
    assert "Not assessed yet" in [t.text for t in root.iter(f"{NS}text")]


def test_whole_number_measure_has_whole_ticks():
    root = parse(measure_chart("chair_stand_30s", HIST, 72, "female"))
    ticks = [t.text for t in root.find(f"{NS}g[@class='y-axis']").iter(f"{NS}text")][:-1]
    assert all(re.fullmatch(r"-?\d+", t) for t in ticks), ticks


def test_nice_ticks_cover_the_range():
    assert nice_ticks(0, 10) == [0, 2.5, 5, 7.5, 10]
    assert nice_ticks(0, 10, whole=True) == [0, 5, 10]
    assert nice_ticks(0, 3, whole=True) == [0, 1, 2, 3]  # never a 0.5 step
    t = nice_ticks(0.73, 1.42)
    assert t[0] <= 0.73 and t[-1] >= 1.42
    assert t == [0.6, 0.8, 1.0, 1.2, 1.4, 1.6]


def test_chart_for_row_uses_the_row_history():
    row = interpret("tug", [(date(2025, 1, 6), 14.0), (date(2025, 3, 1), 11.0)])
    svg = chart_for_row(row, age=72, sex="female")
    assert [t.text for t in parse(svg).iter(f"{NS}text") if t.get("class") == "value"] == [
        "14.0",
        "11.0",
    ]
