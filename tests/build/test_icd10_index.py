"""The ICD-10-CM index built from the pinned simple-icd-10-cm wheel.

Needs the wheel in .cache/pypi/ (the build downloads it; by hand:
``python -m buildtools.icd10_index``); skipped when it is absent.
"""

from __future__ import annotations

import gzip
import re

import pytest

from buildtools import icd10_index
from buildtools.icd10_index import build_index, cached_wheel_path, front_coded, main, sha256_of
from medex.icd10 import Icd10Index
from medex.icd10_terms import LAY_TERMS

# Billable codes in the ICD-10-CM release the pinned wheel carries. FY2026 (October 1, 2025)
# has 74,719 codes (FY2025's 74,260 + 487 new - 28 deleted, CMS FY2026 ICD-10-CM addenda);
# the April 1, 2026 update added none.
BILLABLE_COUNT = {"1.5.0": 74_719}


def wheel_path():
    return cached_wheel_path()


@pytest.fixture(scope="module")
def built() -> bytes:
    path = wheel_path()
    if not path.exists():
        pytest.skip(f"{path} not downloaded (run python -m buildtools.icd10_index)")
    return build_index(path)


@pytest.fixture(scope="module")
def rows(built) -> list[list[str]]:
    return [line.split("\t") for line in built.decode("utf-8").splitlines()[1:]]


@pytest.fixture(scope="module")
def index(built) -> Icd10Index:
    return Icd10Index.from_bytes(built)


def test_wheel_is_the_pinned_one(built):
    assert wheel_path().name == f"simple_icd_10_cm-{icd10_index.PINNED_VERSION}-py3-none-any.whl"
    assert sha256_of(wheel_path()) == icd10_index.WHEEL_SHA256


def test_header_names_format_and_release(built):
    header = built.decode("utf-8").split("\n", 1)[0]
    assert header == (
        "ICD10CM\t1\tICD-10-CM April-1-2026 (CMS/NCHS) via simple_icd_10_cm-1.5.0-py3-none-any.whl"
    )


def test_every_line_is_code_flag_description(rows):
    # A letter, a digit in 2nd or 3rd place ("QA0" is new in FY2026), 3 to 7 characters.
    shape = re.compile(r"[A-Z](?:[0-9][0-9A-Z]|[A-Z][0-9])[0-9A-Z]{0,4}")
    bad = [
        r for r in rows if len(r) != 3 or not shape.fullmatch(r[0]) or r[1] not in "01" or not r[2]
    ]
    assert bad == []
    assert all(r[2] == r[2].strip() and "  " not in r[2] for r in rows)


def test_codes_sorted_and_unique(rows):
    keys = [r[0] for r in rows]
    assert keys == sorted(set(keys))


def test_chapters_and_blocks_left_out(rows):
    assert not [r for r in rows if "-" in r[0] or r[0].isdigit()]


def test_counts_are_those_of_the_release(rows):
    billable = sum(r[1] == "1" for r in rows)
    assert billable == BILLABLE_COUNT[icd10_index.PINNED_VERSION]
    assert 90_000 < len(rows) < 110_000  # 98,186 with categories and subcategories


def test_billable_means_no_more_specific_code(rows):
    """The CMS rule: a code is billable exactly when no code extends it."""
    keys = [r[0] for r in rows]
    for i, (code, flag, _) in enumerate(rows):
        has_children = i + 1 < len(keys) and keys[i + 1].startswith(code)
        assert flag == ("0" if has_children else "1"), code


@pytest.mark.parametrize(
    ("code", "description", "billable"),
    [
        ("M17.11", "Unilateral primary osteoarthritis, right knee", True),
        ("E11.9", "Type 2 diabetes mellitus without complications", True),
        ("I10", "Essential (primary) hypertension", True),
        ("Z96.651", "Presence of right artificial knee joint", True),
        ("M54.50", "Low back pain, unspecified", True),
        ("U07.1", "COVID-19", True),
        ("M17", "Osteoarthritis of knee", False),
        ("M17.1", "Unilateral primary osteoarthritis of knee", False),
        ("Z96.65", "Presence of artificial knee joint", False),
        ("S72.001", "Fracture of unspecified part of neck of right femur", False),
        # 7th character codes: parent description + the 7th character's meaning.
        (
            "S72.001A",
            "Fracture of unspecified part of neck of right femur, initial encounter for closed fracture",
            True,
        ),
        (
            "S72.001B",
            "Fracture of unspecified part of neck of right femur, "
            "initial encounter for open fracture type I or II",
            True,
        ),
        (
            "T36.0X1A",
            "Poisoning by penicillins, accidental (unintentional), initial encounter",
            True,
        ),
        ("C84.10", "Sézary disease, unspecified site", True),
        (
            "QA0",
            "Neurodevelopmental disorders related to specific genetic pathogenic variants",
            False,
        ),
        ("QA0.0101", "SCN2A-related neurodevelopmental disorder", True),
    ],
)
def test_known_codes(index, code, description, billable):
    found = index.lookup(code)
    assert found is not None, code
    assert (found.code, found.description, found.billable) == (code, description, billable)


def test_seventh_characters_only_where_the_code_list_has_them(index):
    """S06.1X7 (death before regaining consciousness) exists only as an initial encounter."""
    assert index.lookup("S06.1X7A") is not None
    assert index.lookup("S06.1X7D") is None
    assert index.lookup("S06.1X7S") is None


def test_blocks_are_not_codes(index):
    assert index.lookup("M15-M19") is None
    with pytest.raises(ValueError, match="range of categories"):
        index.validate_code("M15-M19")


def test_build_is_reproducible(built):
    assert build_index(wheel_path()) == built


def test_index_is_compact(built):
    """Served gzip-compressed: well under 1 MB (about 0.7 MB for 98,186 codes)."""
    assert len(gzip.compress(built, 9)) < 1_000_000
    assert len(built) < 9_000_000


def test_the_front_coded_index_reads_as_the_built_one_in_half_the_bytes(built, index):
    """What the app is sent (format 2) holds exactly the same codes, flags and descriptions."""
    coded = front_coded(built)
    assert coded.startswith(b"ICD10CM\t2\t")
    again = Icd10Index.from_bytes(coded)
    assert again.source == index.source
    assert [(c.code, c.billable, c.description) for c in again] == [
        (c.code, c.billable, c.description) for c in index
    ]
    assert len(gzip.compress(coded, 9)) < len(gzip.compress(built, 9)) * 0.7
    with pytest.raises(ValueError, match="not a format 1"):
        front_coded(coded)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("knee osteoarthritis right", "M17.11"),
        ("type 2 diabetes without", "E11.9"),
        ("essential hypertension", "I10"),
        ("presence right artificial knee", "Z96.651"),
        ("m17.11", "M17.11"),
    ],
)
def test_full_index_search_finds_the_code(index, query, expected):
    assert expected in [c.code for c in index.search(query)]


def test_every_everyday_word_code_is_a_billable_code(index):
    """The lay-term table names only codes of this release, each one that can go on a claim."""
    for phrases, codes in LAY_TERMS:
        for code in codes:
            found = index.lookup(code)
            assert found is not None, (phrases[0], code)
            assert found.billable, (phrases[0], code)


@pytest.mark.parametrize(
    ("query", "first", "also"),
    [
        ("knee replacement", "Z96.651", ["Z96.652", "Z96.653", "Z96.659", "Z47.1"]),
        ("total knee replacement", "Z96.651", ["Z47.1"]),
        ("left knee replacement", "Z96.652", ["Z96.651"]),
        ("hip replacement", "Z96.641", ["Z96.642", "Z96.649", "Z47.1"]),
        ("heart attack", "I25.2", ["I21.9", "I21.4"]),
        ("stroke", "I69.30", ["I69.351", "Z86.73", "I63.9"]),
        ("CVA", "I69.30", []),
        ("low back pain", "M54.50", ["M54.59", "M54.51"]),
        ("type 2 diabetes", "E11.9", ["E11.65"]),
        ("Parkinson's", "G20.A1", ["G20.A2", "G20.B1"]),
        ("parkinsons disease", "G20.A1", []),
        ("COPD", "J44.9", ["J44.1", "J43.9"]),
        ("osteoporosis", "M81.0", ["M81.8"]),
        ("history of falls", "Z91.81", ["R29.6"]),
        ("falls", "R29.6", ["Z91.81", "R26.81"]),
        ("osteoarthritis of knee", "M17.9", ["M17.11", "M17.12", "M17.0"]),
    ],
)
def test_full_index_everyday_words_find_the_referral_codes(index, query, first, also):
    found = [c.code for c in index.search(query)]
    assert found[0] == first
    assert set(also) <= set(found)


@pytest.mark.parametrize(
    "query",
    ["knee replacement", "osteoarthritis of knee", "stroke", "low back pain", "osteoporosis"],
)
def test_full_index_billable_codes_come_first(index, query):
    flags = [c.billable for c in index.search(query, limit=25)]
    assert flags == sorted(flags, reverse=True)


def test_full_index_parses_and_answers_every_kind_of_query(built):
    """Codes, words, phrases, a partial code and nonsense, on the full index (how fast is a
    benchmark's business: ``benchmarks/in_pyodide.py``, not a timed test)."""
    index = Icd10Index.from_text(built.decode("utf-8"))
    found = {q: [c.code for c in index.search(q)] for q in ("M17", "Z96.6", "zzz")}
    assert found["M17"] and all(code.startswith("M17") for code in found["M17"])
    assert found["Z96.6"] and all(code.startswith("Z96.6") for code in found["Z96.6"])
    assert found["zzz"] == []
    for query in ["hypertension", "low back pain", "fracture knee", "knee replacement"]:
        assert index.search(query), query
    right = [c.description.lower() for c in index.search("right knee replacement")]
    assert right and "right" in right[0] and "knee" in right[0]


def test_main_writes_the_index_and_reports_counts(built, tmp_path, capsys):
    out = tmp_path / "icd10cm.txt"
    assert main([str(wheel_path()), "-o", str(out)]) == 0
    assert out.read_bytes() == built
    report = capsys.readouterr().out
    assert "codes     98186  billable 74719  non-billable 23467" in report
