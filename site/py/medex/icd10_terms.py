"""Words practitioners type for the conditions physicians most often refer for exercise.

ICD-10-CM descriptions use clinical wording ("Presence of right artificial knee joint"), so a
search for "knee replacement", "heart attack" or "COPD" finds nothing by its words. Each entry
here maps the everyday phrases and abbreviations of one condition to the codes a referral for
exercise usually carries, most used first (the search lists billable codes first). Every code
is checked against the built code set (``tests/build/test_icd10_index.py``).

Phrases are written in search form: lower case ASCII, no apostrophes ("parkinsons"). Small
linking words ("of", "the", ...) are ignored both here and in the query.
"""

from __future__ import annotations

# Linking words a search ignores when other words remain ("osteoarthritis of knee" finds
# "Unilateral primary osteoarthritis, right knee"). Not "with": ICD-10-CM tells "with" from
# "without" ("Type 2 diabetes mellitus without complications").
STOP_WORDS = frozenset({"of", "the", "and", "in", "on", "for", "to", "at", "or", "by", "from"})

# (phrases, codes): dotted codes, most used first.
LAY_TERMS: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (
        (
            "knee replacement",
            "knee replaced",
            "knee arthroplasty",
            "artificial knee",
            "new knee",
            "tkr",
            "tka",
        ),
        ("Z96.651", "Z96.652", "Z96.653", "Z96.659", "Z47.1"),
    ),
    (
        ("hip replacement", "hip replaced", "hip arthroplasty", "artificial hip", "thr", "tha"),
        ("Z96.641", "Z96.642", "Z96.643", "Z96.649", "Z47.1"),
    ),
    (
        ("joint replacement", "arthroplasty", "replacement aftercare"),
        ("Z47.1", "Z96.651", "Z96.652", "Z96.641", "Z96.642"),
    ),
    (
        ("heart attack", "mi", "myocardial infarction", "stemi", "nstemi"),
        ("I25.2", "I21.9", "I21.4", "I21.3", "I21.A1", "I22.9"),
    ),
    (
        ("stroke", "cva", "cerebrovascular accident", "brain attack"),
        (
            "I69.30",
            "I69.351",
            "I69.352",
            "I69.353",
            "I69.354",
            "I69.359",
            "I69.398",
            "Z86.73",
            "I63.9",
        ),
    ),
    (
        (
            "low back pain",
            "lower back pain",
            "back pain",
            "lbp",
            "lumbago",
            "backache",
            "bad back",
        ),
        ("M54.50", "M54.59", "M54.51", "M54.41", "M54.42"),
    ),
    (("sciatica",), ("M54.30", "M54.31", "M54.32", "M54.41", "M54.42")),
    (
        (
            "type 2 diabetes",
            "type ii diabetes",
            "diabetes type 2",
            "t2dm",
            "dm2",
            "t2d",
            "niddm",
            "adult onset diabetes",
        ),
        ("E11.9", "E11.65", "E11.42", "E11.40", "E11.22"),
    ),
    (("diabetes", "diabetic", "dm"), ("E11.9", "E11.65", "E10.9")),
    (("prediabetes", "pre diabetes", "borderline diabetes"), ("R73.03",)),
    (
        ("parkinsons", "parkinson", "parkinsons disease", "parkinson disease"),
        ("G20.A1", "G20.A2", "G20.B1", "G20.B2", "G20.C"),
    ),
    (
        (
            "copd",
            "coad",
            "chronic obstructive pulmonary disease",
            "emphysema",
            "chronic bronchitis",
        ),
        ("J44.9", "J44.1", "J44.0", "J43.9", "J42"),
    ),
    (
        ("osteoporosis", "brittle bones", "low bone density", "thin bones"),
        ("M81.0", "M81.8", "Z87.310", "M80.08XD"),
    ),
    (
        ("osteopenia", "low bone mass"),
        ("M85.80", "M85.89", "M81.0"),
    ),
    (
        (
            "falls",
            "fall",
            "falling",
            "faller",
            "fall risk",
            "risk falls",
            "history falls",
            "history falling",
            "repeated falls",
            "recurrent falls",
            "frequent falls",
        ),
        ("Z91.81", "R29.6", "R26.81", "R26.89", "R26.2"),
    ),
    (
        ("poor balance", "balance problems", "unsteady", "unsteadiness", "imbalance"),
        ("R26.81", "R26.89", "Z91.81", "R42"),
    ),
    (
        ("knee arthritis", "knee oa", "arthritic knee", "arthritis knee"),
        ("M17.11", "M17.12", "M17.0", "M17.9"),
    ),
    (
        ("hip arthritis", "hip oa", "arthritic hip", "arthritis hip"),
        ("M16.11", "M16.12", "M16.0", "M16.9"),
    ),
    (("high blood pressure", "hypertension", "htn", "hbp"), ("I10",)),
    (
        ("heart failure", "chf", "congestive heart failure", "hf"),
        ("I50.9", "I50.22", "I50.32"),
    ),
    (
        ("coronary artery disease", "cad", "heart disease", "ischemic heart disease", "ihd"),
        ("I25.10", "I25.2", "Z95.1", "Z95.5"),
    ),
    (("bypass", "cabg", "heart bypass"), ("Z95.1",)),
    (("stent", "stents", "pci", "angioplasty"), ("Z95.5", "Z98.61")),
    (("afib", "af", "atrial fibrillation"), ("I48.91", "I48.0")),
    (("obesity", "obese", "overweight"), ("E66.9", "E66.01")),
    (("high cholesterol", "cholesterol", "hyperlipidemia"), ("E78.5", "E78.00")),
    (("ms", "multiple sclerosis"), ("G35.D", "G35.A", "G35.B0", "G35.C0")),
    (("fibromyalgia", "fibro"), ("M79.7",)),
)
