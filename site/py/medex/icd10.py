"""Offline ICD-10-CM look-up: diagnosis codes on a physician's referral.

The full code set (about 98,000 codes, 74,719 of them billable in the April 2026 release) is
built into a compact text index by ``buildtools/icd10_index.py`` and loaded lazily the first
time the practitioner searches. This module only parses and searches that text: no I/O.

Index format (UTF-8, one code a line, sorted by code; header line first)::

    ICD10CM<TAB>1<TAB><source>
    M17<TAB>0<TAB>Osteoarthritis of knee
    M1711<TAB>1<TAB>Unilateral primary osteoarthritis, right knee

The app is sent format 2, the same lines front-coded (``_front_decoded``): each code and
description written as how many leading characters it shares with the line before, then the
rest, which brotli sends in half the bytes of format 1.

Codes are stored upper case WITHOUT the dot; the flag is 1 for billable codes (no
subdivisions) and 0 for categories/subcategories that head more specific codes. The canonical
form shown to people always has the dot after the 3rd character ("M17.11").

Billable codes can go on a claim; a non-billable code (e.g. the category "M17") is accepted on a
referral - physicians do write them - but is flagged so the practitioner can ask for, or pick,
a more specific code.
"""

from __future__ import annotations

import gzip
import re
import unicodedata
from bisect import bisect_left, bisect_right
from collections.abc import Iterator
from itertools import accumulate
from operator import itemgetter
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator, model_validator

from .icd10_terms import LAY_TERMS, STOP_WORDS

MAGIC = "ICD10CM"
FORMAT_VERSION = "1"
FRONT_CODED = "2"
_DAMAGED = "The ICD-10-CM index is damaged (a line does not have {} fields)"
# Key under which an Icd10Index may be passed in pydantic's validation context, e.g.
# ``Referral.model_validate(data, context={ICD10_CONTEXT_KEY: index})``.
ICD10_CONTEXT_KEY = "icd10"

# ICD-10-CM codes have 3 to 7 letters/digits: a letter, then a digit in the 2nd or 3rd place
# ("M17.11", "C9A.0", and since FY2026 "QA0.0" - so not always "letter + digit").
_CODE_SHAPE = re.compile(r"[A-Z](?:[0-9][0-9A-Z]|[A-Z][0-9])[0-9A-Z]{0,4}")
# What a search treats as (the start of) a code: also 2 characters such as "M1".
_CODE_PREFIX = re.compile(r"[A-Z][0-9][0-9A-Z]{0,5}|[A-Z][A-Z][0-9][0-9A-Z]{0,4}")
# A chapter block such as "M15-M19": a range of categories, not a code.
_BLOCK_SHAPE = re.compile(r"[A-Z][0-9A-Z]{2}-[A-Z][0-9A-Z]{2}")
_WORD = re.compile(r"[a-z0-9]+")
_ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789"
_NOT_BILLABLE_RANK = 1 << 20  # added to the description length: billable codes rank first
_EXAMPLE = "e.g. M17.11"
_SAMPLES = 16  # windows sampled to guess which query word is rarest
_MAX_DESCRIPTION = 300


def normalize_code(code: str) -> str:
    """Upper case, without dots or spaces: the form the index stores ("m17.11 " -> "M1711")."""
    return "".join(code.split()).replace(".", "").upper()


def canonical_code(code: str) -> str:
    """The dotted form people read and write: "M1711" -> "M17.11" ("I10" stays "I10")."""
    code = normalize_code(code)
    return code if len(code) <= 3 else f"{code[:3]}.{code[3:]}"


def _front_decoded(body: str) -> tuple[list[str], list[str], list[str]]:
    """(codes, flags, descriptions) of format 2, whose lines are
    ``<n><code tail><TAB><flag><TAB><m><TAB><description tail>``: the code is the line before's
    first n characters (one digit) then its tail; the description the line before's first m
    characters (m empty: none) then its tail."""
    fields = body.replace("\n", "\t").split("\t") if body else []
    if len(fields) % 4:
        raise ValueError(_DAMAGED.format(4))
    codes: list[str] = []
    descriptions: list[str] = []
    code = description = ""
    try:
        for coded, shared, tail in zip(fields[0::4], fields[2::4], fields[3::4], strict=True):
            code = code[: int(coded[0])] + coded[1:]
            description = description[: int(shared)] + tail if shared else tail
            codes.append(code)
            descriptions.append(description)
    except (ValueError, IndexError):
        raise ValueError(_DAMAGED.format(4)) from None
    return codes, fields[1::4], descriptions


def _strip_accents(text: str) -> str:
    """Drop accents ("Sézary" -> "Sezary"): what people type on a keyboard without them."""
    if text.isascii():
        return text
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def _fold_query(text: str) -> str:
    """Search form of a query: lower case ASCII, apostrophes removed ("Sézary's" -> "sezarys")."""
    return _strip_accents(text).lower().replace("'", "").replace("\u2019", "")


def _category_warning(code: str) -> str:
    return f"'{code}' is a category, not a billable code: pick a more specific code"


def _code_field(value: Any) -> str:
    """Shape check and canonical form of a code typed or stored ("m1711" -> "M17.11")."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"Enter an ICD-10-CM code, {_EXAMPLE}")
    key = normalize_code(value)
    if not _CODE_SHAPE.fullmatch(key):
        raise ValueError(_unknown_code_message(" ".join(value.split())))
    return canonical_code(key)


class Icd10Code(BaseModel):
    """One ICD-10-CM code as the index knows it (search results, look-ups)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str  # canonical, with the dot: "M17.11"
    description: str
    billable: bool  # False: a category/subcategory heading more specific codes

    @field_validator("code", mode="before")
    @classmethod
    def _canonical(cls, value: Any) -> str:
        return _code_field(value)

    @property
    def warning(self) -> str | None:
        """Plain-words note for the UI when the code cannot go on a claim as is."""
        return None if self.billable else _category_warning(self.code)


class Icd10Index:
    """The parsed code set: exact look-up by code, search by code prefix or by words."""

    def __init__(self, codes: list[str], flags: list[str], descriptions: list[str], source: str):
        self.source = source
        self._codes = codes  # dotless, sorted
        self._flags = flags  # "1" billable, "0" not
        self._descs = descriptions
        # Description search structures are built on the first word search (see _prepare).
        self._blob = ""
        self._starts: list[int] = []
        self._order: list[int] = []

    # -- loading -----------------------------------------------------------------------------

    @classmethod
    def from_text(cls, text: str) -> Icd10Index:
        """Parse the index text written by ``buildtools/icd10_index.py``."""
        header, _, body = text.partition("\n")
        parts = header.split("\t")
        if len(parts) < 2 or parts[0] != MAGIC:
            raise ValueError("This file is not an ICD-10-CM index")
        if parts[1] not in (FORMAT_VERSION, FRONT_CODED):
            raise ValueError(f"ICD-10-CM index format {parts[1]} is not supported (expected 1)")
        body = body.rstrip("\n")
        source = parts[2] if len(parts) > 2 else ""
        if parts[1] == FRONT_CODED:
            return cls(*_front_decoded(body), source)
        fields = body.replace("\n", "\t").split("\t") if body else []
        if len(fields) % 3:
            raise ValueError(_DAMAGED.format(3))
        return cls(fields[0::3], fields[1::3], fields[2::3], source)

    @classmethod
    def from_bytes(cls, data: bytes) -> Icd10Index:
        """Parse the index from bytes as fetched, gzip-compressed or not."""
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        return cls.from_text(data.decode("utf-8"))

    def __len__(self) -> int:
        return len(self._codes)

    def _find(self, code: str) -> int | None:
        """Position of a dotless upper-case code (a binary search: no dict to build at load)."""
        i = bisect_left(self._codes, code)
        return i if i < len(self._codes) and self._codes[i] == code else None

    def __contains__(self, code: object) -> bool:
        return isinstance(code, str) and self._find(normalize_code(code)) is not None

    def _entry(self, i: int) -> Icd10Code:
        code = self._codes[i]
        return Icd10Code.model_construct(
            code=code if len(code) <= 3 else f"{code[:3]}.{code[3:]}",
            description=self._descs[i],
            billable=self._flags[i] == "1",
        )

    def __iter__(self) -> Iterator[Icd10Code]:
        return (self._entry(i) for i in range(len(self._codes)))

    # -- look-up and validation --------------------------------------------------------------

    def lookup(self, code: str) -> Icd10Code | None:
        """The code, written with or without the dot, any case, spaces ignored; None if unknown."""
        i = self._find(normalize_code(code))
        return None if i is None else self._entry(i)

    def validate_code(self, code: str) -> Icd10Code:
        """The code if it exists (billable or not); ValueError in plain words otherwise.

        Non-billable codes are accepted with ``billable=False``: show ``Icd10Code.warning``.
        """
        typed = " ".join(code.split())
        if not typed:
            raise ValueError(f"Enter an ICD-10-CM code, {_EXAMPLE}")
        found = self.lookup(typed)
        if found is not None:
            return found
        raise ValueError(_unknown_code_message(typed))

    # -- search ------------------------------------------------------------------------------

    def search(self, query: str, limit: int = 20) -> list[Icd10Code]:
        """Codes matching the query, best first.

        A query shaped like a code ("m17.1", "E11") matches that code, then codes starting with
        it; everyday words for common referral conditions ("knee replacement", "heart
        attack", "COPD": ``icd10_terms``) match the codes used for them; every query also
        matches descriptions in which each word of the query starts a word ("knee osteo"
        finds "Unilateral primary osteoarthritis, right knee"; linking words such as "of" are
        ignored). Order: exact code, then code-prefix matches, then everyday-word matches,
        then description matches; within each, billable codes first, then (code prefixes)
        shorter codes, (everyday words) the most used and those naming more of the query's
        words, (descriptions) shorter descriptions, then by code.
        """
        if limit <= 0:
            return []
        hits: list[int] = []
        key = normalize_code(query).rstrip("-")  # "M17.-" is how coders write "M17 and below"
        if _CODE_PREFIX.fullmatch(key):
            hits = self._code_hits(key, limit)
        words = _query_words(query)
        lay = self._lay_hits(words)
        found_by = (lay, self._word_hits(words, limit))
        if lay and len(words) > lay_words(words):
            # Words beyond the condition's name: codes whose description has every word
            # ("resistant hypertension") before the condition's usual codes.
            found_by = found_by[::-1]
        for found in found_by:
            if len(hits) >= limit:
                break
            seen = set(hits)
            hits.extend(i for i in found if i not in seen)
        return [self._entry(i) for i in hits[:limit]]

    def _lay_hits(self, words: list[str]) -> list[int]:
        """Codes for everyday words ("knee replacement", "COPD"), billable first (``lay_codes``)."""
        found = (self._find(normalize_code(code)) for code in lay_codes(words))
        ranked = [i for i in found if i is not None]
        if not ranked:
            return []
        # Words beyond the condition's name pick among its codes: "left hip replacement".
        starts = [re.compile(r"(?<![a-z0-9])" + re.escape(w)) for w in words]

        def named(i: int) -> int:
            text = _fold_query(self._descs[i])
            return sum(1 for rx in starts if rx.search(text))

        return sorted(ranked, key=lambda i: (self._flags[i] != "1", -named(i)))

    def _code_hits(self, key: str, limit: int) -> list[int]:
        codes, flags = self._codes, self._flags
        lo = bisect_left(codes, key)
        hi = bisect_right(codes, key + "\x7f", lo)
        exact = [lo] if lo < hi and codes[lo] == key else []
        start = lo + len(exact)
        ranked = sorted(range(start, hi), key=lambda i: (flags[i] != "1", len(codes[i]), i))
        return (exact + ranked)[:limit]

    def _prepare(self) -> None:
        """Build the description search structures (once, on the first word search).

        ``_blob`` holds every description in search form, one a line, best rank first
        (billable, then shorter, then by code: sorted() is stable and entries are in code
        order), so a scan can stop at the first ``limit`` matching lines. ``_order[k]`` is the
        entry on line k and ``_starts[k]`` where that line begins in ``_blob``. Bulk operations
        only (no per-line Python work but 3 comprehensions): this runs in the browser.
        """
        descs = self._descs
        folded = descs
        accented = [i for i, d in enumerate(descs) if not d.isascii()]  # ~150 of 98,000
        if accented:
            folded = descs.copy()
            for i in accented:
                folded[i] = _strip_accents(descs[i])
        # Length of each line with its "\n" (the +1 does not change the ranking).
        lengths = [len(d) + 1 for d in folded]
        flags = self._flags
        rank = [
            n if f == "1" else n + _NOT_BILLABLE_RANK for n, f in zip(lengths, flags, strict=True)
        ]
        order = sorted(range(len(descs)), key=rank.__getitem__)
        if len(order) > 1:
            pick = itemgetter(*order)
            ranked, ranked_lengths = pick(folded), pick(lengths)
        else:
            ranked, ranked_lengths = [folded[i] for i in order], [lengths[i] for i in order]
        self._starts = list(accumulate(ranked_lengths, initial=1))  # the blob starts with "\n"
        # "Alzheimer's" -> "alzheimers'": same length, so "alzheimers" finds it as a word start.
        self._blob = ("\n" + "\n".join(ranked) + "\n").lower().replace("'s", "s'")
        self._order = order

    def _estimate_count(self, word: str) -> int:
        """Occurrences of ``word`` in evenly spread samples of the blob (about 1/8 of it)."""
        blob = self._blob
        step = max(len(blob) // _SAMPLES, 1)
        size = step // 8 + len(word)
        return sum(blob.count(word, s, s + size) for s in range(0, len(blob), step))

    def _word_hits(self, words: list[str], limit: int) -> list[int]:
        if not words:
            return []
        if not self._blob:
            self._prepare()
        blob, starts, order = self._blob, self._starts, self._order
        # Every word must occur somewhere (a fast C scan) before scanning line by line.
        if any(w not in blob for w in words):
            return []
        # Drive the scan with the rarest word, so that a common word paired with a rare one
        # ("fracture knee") scans only the rare word's lines; check the others per line.
        driver = words[0] if len(words) == 1 else min(words, key=self._estimate_count)
        others = [re.compile(r"(?<![a-z0-9])" + re.escape(w)) for w in words if w != driver]
        hits: list[int] = []
        find = blob.find
        p = find(driver, 1)
        while p != -1:
            if blob[p - 1] in _ALNUM:  # inside a word, not at its start
                p = find(driver, p + 1)
                continue
            k = bisect_right(starts, p) - 1
            start, end = starts[k], starts[k + 1] - 1
            if not others or all(rx.search(blob, start, end) for rx in others):
                hits.append(order[k])
                if len(hits) == limit:
                    break
            p = find(driver, end + 1)
        return hits


def _query_words(query: str) -> list[str]:
    """The words of a query in search form, linking words ("of") dropped unless alone."""
    words = list(dict.fromkeys(_WORD.findall(_fold_query(query))))
    kept = [w for w in words if w not in STOP_WORDS]
    return kept or words


def _covers(phrase: list[str], words: list[str]) -> int:
    """How many query words a lay phrase takes up, or 0 when the query does not name it.

    Each word of the phrase must be a word of the query; the query's last word may be the
    start of one (3 letters at least: "knee repl" while typing). Other query words may be
    there too ("right knee replacement").
    """
    if not phrase or not words:
        return 0
    used = 0
    last = words[-1]
    typing = last if len(last) >= 3 and last not in phrase else ""
    for word in phrase:
        if not (word in words or (typing and word.startswith(typing))):
            return 0
        used += 1
    return used


# Each everyday phrase as its words (linking words dropped), split once at import.
_LAY_PHRASES = [
    ([[w for w in p.split() if w not in STOP_WORDS] for p in phrases], codes)
    for phrases, codes in LAY_TERMS
]


def _lay_matches(words: list[str]) -> tuple[int, list[str]]:
    best = 0
    matched: list[tuple[int, tuple[str, ...]]] = []
    for phrases, codes in _LAY_PHRASES:
        score = max(_covers(p, words) for p in phrases)
        if score:
            matched.append((score, codes))
            best = max(best, score)
    return best, list(dict.fromkeys(c for score, codes in matched if score == best for c in codes))


def lay_codes(words: list[str]) -> list[str]:
    """Codes (dotted, most used first) for the everyday phrases the query words name.

    When several conditions match, only those whose phrase takes up the most query words
    count: "type 2 diabetes" lists type 2 codes, not every diabetes code.
    """
    return _lay_matches(words)[1]


def lay_words(words: list[str]) -> int:
    """How many of the query words the best-matching everyday phrase takes up (0: none)."""
    return _lay_matches(words)[0]


def _unknown_code_message(typed: str) -> str:
    key = normalize_code(typed)
    if _BLOCK_SHAPE.fullmatch(key):
        return f"'{typed}' is a range of categories, not a code: pick a specific code, {_EXAMPLE}"
    if key.endswith("-") and _CODE_PREFIX.fullmatch(key.rstrip("-")):
        return f"'{typed}' stands for any code under {canonical_code(key.rstrip('-'))}: pick a specific code"
    if not _CODE_SHAPE.fullmatch(key):
        return (
            f"'{typed}' is not an ICD-10-CM code: codes have 3 to 7 letters and digits, "
            f"starting with a letter, {_EXAMPLE}"
        )
    return f"'{typed}' is not an ICD-10-CM code"


class Diagnosis(BaseModel):
    """A diagnosis on a referral: the ICD-10-CM code and its description.

    Without an index the code is only checked for shape and put in canonical form (the index
    is loaded lazily, so records must validate without it). When an ``Icd10Index`` is passed
    in the validation context under ``ICD10_CONTEXT_KEY``, unknown codes are refused, an empty
    description is filled in from the index and ``billable`` is set.
    """

    # Frozen: change a diagnosis by replacing it, so ``billable`` never goes stale.
    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str  # canonical, with the dot: "M17.11"
    # Longest ICD-10-CM description is 228 characters, so records.Text (200) is too short.
    description: str = ""
    # None: not checked against the code set (no index at hand when it was recorded).
    billable: bool | None = None

    @field_validator("code", mode="before")
    @classmethod
    def _code_shape(cls, value: Any) -> str:
        return _code_field(value)

    @field_validator("description", mode="before")
    @classmethod
    def _description_text(cls, value: Any) -> Any:
        if isinstance(value, str):
            # One line of printable text: collapse whitespace, drop other control characters.
            value = "".join(ch for ch in " ".join(value.split()) if ch.isprintable())
            if len(value) > _MAX_DESCRIPTION:
                raise ValueError(
                    f"The diagnosis description is too long (at most {_MAX_DESCRIPTION} characters)"
                )
        return value

    @model_validator(mode="after")
    def _check_against_index(self, info: ValidationInfo) -> Diagnosis:
        index = (info.context or {}).get(ICD10_CONTEXT_KEY)
        if not isinstance(index, Icd10Index):
            return self
        found = index.validate_code(self.code)  # raises ValueError for unknown codes
        # Frozen model: fill in through __dict__ while it is being validated.
        if not self.description:
            self.__dict__["description"] = found.description
        self.__dict__["billable"] = found.billable
        return self

    @property
    def warning(self) -> str | None:
        """Plain-words note when the code is known to be a non-billable category."""
        return _category_warning(self.code) if self.billable is False else None
