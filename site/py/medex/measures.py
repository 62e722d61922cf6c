"""Outcome-measure catalogue: definitions, published numbers with their sources, and scoring.

Every number below is documented with its published source in ``docs/clinical.md`` §2–§4
(the newer research notes win where they differ), and is stored with its citation and the
population it was measured in. Values no retrievable source confirmed are left out, so the
interface says "no published norm on file". Where two sources conflict, the conservative value
is used and the reason is written in ``notes``.

"Conservative" here means: never make a client look better than the evidence allows. A lower
limit of a normal range takes the higher of two conflicting values (more clients read "below
average"), an upper limit takes the higher value (fewer read "above average"), and a screen
flags the boundary value when sources disagree on which side it falls.

Questionnaires are stored as item scores under short labels (``lefs_01`` …), never with
the instrument's item text. Several instruments need a licence for use in commercial
software (see ``licence_note``).

Nothing here does I/O. Interpretation over time lives in ``outcomes.py``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .records import LongText, Record, RequiredText, Text

Direction = Literal["higher_is_better", "lower_is_better", "neither"]
Sex = Literal["female", "male"]
Comparison = Literal["<", "<=", ">", ">="]
ChangeLevel = Literal["minimal", "moderate", "substantial"]

# Client conditions that switch on population-specific numbers (an MDC measured in knee
# osteoarthritis is only used for a client with knee osteoarthritis, and so on).
CONDITIONS: Mapping[str, str] = MappingProxyType(
    {
        "knee_oa": "Knee osteoarthritis",
        "low_back_pain": "Low back pain",
        "stroke": "Stroke (any time)",
        "acute_stroke": "Acute stroke",
        "falls_history": "History of falls or near-falls",
    }
)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Source(_Frozen):
    """Where a number comes from."""

    citation: str
    web_address: str = ""  # where the source can be read: a citation, never fetched
    population: str = ""
    confidence: str = ""  # "primary", "two agreeing secondaries", "single secondary", …


class ProtocolField(_Frozen):
    """A protocol detail recorded with a value (chair height, device, trials, pace …)."""

    key: str
    label: str
    kind: Literal["choice", "number", "text", "yes_no"]
    choices: tuple[str, ...] = ()
    unit: str = ""
    default: str | float | bool | None = None
    help: str = ""


class ItemDef(_Frozen):
    """One questionnaire item: a short label only, never the instrument's wording."""

    key: str
    label: str
    min: int
    max: int


class NormBand(_Frozen):
    """A published normal range for one sex (``None`` = both) and an inclusive age band.

    ``low`` / ``high`` are numeric limits (for a timed test ``low`` is the faster time). Either
    may be ``None`` for a one-sided published limit ("worse than average above 11.4 s").
    """

    sex: Sex | None
    age_min: int
    age_max: int
    low: float | None
    high: float | None
    source: Source
    statistic: str = "25th–75th percentile"
    notes: str = ""
    # The source's own words for a value beyond a one-sided limit ("Slower than average for
    # age", Bohannon 2006) and for one that is not; empty: the generic "worse than average".
    worse_words: str = ""
    not_worse_words: str = ""

    @model_validator(mode="after")
    def _check(self) -> NormBand:
        if self.age_min > self.age_max:
            raise ValueError("Norm age band is reversed")
        if self.low is None and self.high is None:
            raise ValueError("A norm needs a lower or an upper limit")
        if self.low is not None and self.high is not None and self.low > self.high:
            raise ValueError("Norm lower limit is above its upper limit")
        return self

    @property
    def label(self) -> str:
        return band_label(self.sex, self.age_min, self.age_max)


class ReferenceValue(_Frozen):
    """A published average (mean/median) that is not a range: shown, never used to classify."""

    sex: Sex | None
    age_min: int | None
    age_max: int | None
    value: float
    statistic: Literal["mean", "median"]
    source: Source
    sd: float | None = None
    notes: str = ""

    @property
    def label(self) -> str:
        return band_label(self.sex, self.age_min, self.age_max)


class Cutoff(_Frozen):
    """A published threshold: the flag applies when ``value <comparison> cutoff``."""

    value: float
    comparison: Comparison
    meaning: str
    source: Source
    kind: Literal["fall_risk", "sarcopenia", "function", "safety", "health_risk"] = "function"
    sex: Sex | None = None
    age_min: int | None = None
    age_max: int | None = None
    condition: str | None = None  # only for clients with this condition (see CONDITIONS)
    requires: tuple[tuple[str, str], ...] = ()  # protocol key/value it was published for
    notes: str = ""

    def hit(self, value: float) -> bool:
        c, v = self.comparison, self.value
        if c == "<":
            return value < v
        if c == "<=":
            return value <= v
        if c == ">":
            return value > v
        return value >= v


class ChangeThreshold(_Frozen):
    """An MDC or an MCID value, with its source and the population it was measured in."""

    value: float = Field(gt=0)
    source: Source
    population: str
    level: ChangeLevel = "minimal"
    condition: str | None = None
    baseline_min: float | None = None  # inclusive; for baseline-dependent values
    baseline_max: float | None = None
    alternate: bool = False  # kept for display ("other published values"), never selected
    notes: str = ""

    def covers(self, reference: float) -> bool:
        if self.baseline_min is not None and reference < self.baseline_min:
            return False
        return not (self.baseline_max is not None and reference > self.baseline_max)


class Band(_Frozen):
    """One interpretation band: applies up to ``upper`` (``None`` = no upper limit)."""

    label: str
    upper: float | None
    upper_inclusive: bool = True


class BandScheme(_Frozen):
    """Ordered bands (severity, category) from one source."""

    name: str
    bands: tuple[Band, ...]
    source: Source
    condition: str | None = None
    age_min: int | None = None
    notes: str = ""

    def classify(self, value: float) -> Band:
        for band in self.bands:
            if band.upper is None:
                return band
            if value < band.upper or (band.upper_inclusive and value == band.upper):
                return band
        return self.bands[-1]


class MeasureDefinition(_Frozen):
    """One outcome measure and every published number the app uses for it."""

    id: str
    name: str
    short_name: str
    category: Literal[
        "strength",
        "mobility",
        "balance",
        "endurance",
        "flexibility",
        "questionnaire",
        "vitals",
        "other",
    ]
    unit: str
    unit_singular: str = ""  # "stand" for "1 stand"; defaults to unit
    change_unit: str = ""  # unit used for differences ("points" for a % score)
    direction: Direction
    valid_min: float | None = None
    valid_max: float | None = None
    min_inclusive: bool = True
    valid_range_note: str = ""
    decimals: int = Field(default=0, ge=0, le=3)
    description: str = ""
    scoring: str = ""
    protocol: tuple[ProtocolField, ...] = ()
    items: tuple[ItemDef, ...] = ()
    cutoffs: tuple[Cutoff, ...] = ()
    mdc: tuple[ChangeThreshold, ...] = ()
    mcid: tuple[ChangeThreshold, ...] = ()
    norms: tuple[NormBand, ...] = ()
    reference_values: tuple[ReferenceValue, ...] = ()
    bands: tuple[BandScheme, ...] = ()
    loinc: str | None = None
    loinc_source: Source | None = None
    loinc_note: str = ""
    licence_note: str = ""
    notes: tuple[str, ...] = ()
    custom: bool = False

    @model_validator(mode="after")
    def _check(self) -> MeasureDefinition:
        if (
            self.valid_min is not None
            and self.valid_max is not None
            and self.valid_min >= self.valid_max
        ):
            raise ValueError("The lowest valid value must be below the highest")
        seen: dict[tuple[str | None, int], NormBand] = {}
        for band in self.norms:
            for sex in ("female", "male") if band.sex is None else (band.sex,):
                for age in range(band.age_min, band.age_max + 1):
                    if (sex, age) in seen:
                        raise ValueError(f"{self.id}: overlapping norm bands at {sex} {age}")
                    seen[(sex, age)] = band
        thresholds: tuple[Cutoff | ChangeThreshold, ...] = (*self.cutoffs, *self.mdc, *self.mcid)
        for c in thresholds:
            if c.condition is not None and c.condition not in CONDITIONS:
                raise ValueError(f"{self.id}: unknown condition {c.condition!r}")
        return self

    @property
    def is_questionnaire(self) -> bool:
        return bool(self.items)

    @property
    def sentence_unit(self) -> str:
        return self.change_unit or self.unit

    @property
    def has_sex_specific_norms(self) -> bool:
        return any(b.sex is not None for b in self.norms)


def band_label(sex: str | None, age_min: int | None, age_max: int | None) -> str:
    """'women 70–74', 'men 60–64', 'ages 60–69', 'all ages'."""
    who = {"female": "women", "male": "men"}.get(sex or "", "")
    if age_min is None and age_max is None:
        return who or "all ages"
    ages = f"{age_min}–{age_max}" if age_max is not None else f"{age_min}+"
    return f"{who} {ages}" if who else f"ages {ages}"


# ---------------------------------------------------------------------------------------------
# Sources (what each one supports: docs/clinical.md §2 tests, §3 questionnaires, §4 vitals)
# ---------------------------------------------------------------------------------------------

RIKLI_POP = "Community-residing adults aged 60–94 (Rikli & Jones, n = 7,183)"
SRC_SFT_2013 = Source(
    citation="Rikli & Jones, Senior Fitness Test Manual, 2nd ed., 2013 (secondary reproduction)",
    web_address="https://www.fitnessprosbattlecreek.com/fitness-testing",
    population=RIKLI_POP,
    confidence="single secondary — verify against the manual (ISBN 978-1-4504-1118-9)",
)
SRC_SFT_1999 = Source(
    citation="Rikli & Jones 1999, J Aging Phys Act 7:160–179",
    web_address="https://pdfcoffee.com/30-second-chairs-it-to-stand-test-pdf-free.html",
    population=RIKLI_POP,
    confidence="single secondary",
)
SRC_8FT = Source(
    citation="Jones & Rikli 2002 (secondary reproduction)",
    web_address="http://www.topendsports.com/testing/tests/up-and-go-8foot.htm",
    population=RIKLI_POP,
    confidence="single secondary — verify against the manual",
)
SRC_STEADI_CHAIR = Source(
    citation="CDC STEADI 30-Second Chair Stand form",
    web_address="https://slidepub.com/slideshow/30-second-chair-stand-test-a-1",
    population="Older adults aged 60–94",
    confidence="two agreeing secondaries (slidepub; Injury Matters WA)",
)
SRC_BACK_SCRATCH = Source(
    citation="Jones & Rikli 2002, Journal on Active Aging Mar–Apr pp. 24–30 (minus sign "
    "applied from the table's legend)",
    web_address="https://online.documentine.com/functional-reach-test-norms-inches/2/"
    "back-scratch-test-wordpress-com.html",
    population=RIKLI_POP,
    confidence="single secondary",
)
SRC_SIT_REACH = Source(
    citation="Jones & Rikli 2002 (chair sit-and-reach)",
    web_address="https://www.topendsports.com/testing/tests/sit-and-reach-chair.htm",
    population=RIKLI_POP,
    confidence="single secondary",
)
SRC_BOHANNON_5XSTS = Source(
    citation="Bohannon 2006 meta-analysis, Percept Mot Skills 103:215",
    web_address="https://www.scribd.com/document/377429790/5x-STS",
    population="Adults 60–89 (meta-analysis)",
    confidence="single secondary",
)
SRC_LUSARDI = Source(
    citation="Lusardi 2017",
    web_address="https://neurosurgerywiki.com/wiki/doku.php?id=five_times_sit-to-stand",
    population="Older adults (population not stated in the reference)",
    confidence="single secondary",
)
SRC_BUATOIS = Source(
    citation="Buatois 2008",
    web_address="https://www.scribd.com/document/377429790/5x-STS",
    population="Healthy adults aged 65 and over",
    confidence="single secondary",
)
SRC_GURALNIK = Source(
    citation="Guralnik 2000",
    web_address="https://www.scribd.com/document/377429790/5x-STS",
    population="Older adults (population not stated in the reference)",
    confidence="single secondary",
)
SRC_EWGSOP2 = Source(
    citation="EWGSOP2 (European Working Group on Sarcopenia in Older People, 2019)",
    web_address="https://rmdopen.bmj.com/highwire/markup/142628/expansion",
    population="Older adults",
    confidence="secondary table",
)
SRC_GOLDBERG = Source(
    citation="Goldberg et al. 2012, Aging Clin Exp Res 24:339",
    web_address="https://link.springer.com/article/10.1007%2FBF03325265",
    population="29 community-dwelling older women, mean age 73.6",
    confidence="primary (abstract)",
)
SRC_SAGE = Source(
    citation="Clinically meaningful change for the chair stand test (SAGE Mexico)",
    web_address="https://discovery.researcher.life/article/clinically-meaningful-change-for-the-chair-"
    "stand-test-monitoring-mobility-in-integrated-care-for-older-people/081591585006364da8dd23974574cacc",
    population="SAGE Mexico, n = 897, community-dwelling, 60–96 y",
    confidence="single secondary (abstract via aggregator)",
)
SRC_GILL_KNEE_OA = Source(
    citation="Gill et al., 30-second chair stand test reliability in early-stage knee OA",
    web_address="https://dro.deakin.edu.au/articles/journal_contribution/Thirty_second_chair_stand_test_"
    "Test_retest_reliability_agreement_and_minimum_detectable_change_in_people_with_early-"
    "stage_knee_osteoarthritis/20597538",
    population="93 people with early knee osteoarthritis",
    confidence="primary (abstract); not general older adults",
)
SRC_STEADI_TUG = Source(
    citation="CDC STEADI Timed Up and Go form",
    web_address="https://online.documentine.com/evaluation-for-surgery-icd/1/assessment-timed-up-go-tug-"
    "cdc-gov.html",
    population="Older adults",
    confidence="secondary mirror of the CDC form",
)
SRC_TUG_EWGSOP2 = Source(
    citation="EWGSOP2 severe-sarcopenia performance criterion",
    web_address="https://openres.ersjournals.com/highwire/markup/17137/expansion",
    population="Older adults",
    confidence="secondary table",
)
SRC_TUG_KNEE_OA = Source(
    citation="BMC Musculoskelet Disord 2015 (s12891-015-0637-8)",
    web_address="https://bmjopensem.bmj.com/lookup/external-ref?access_num=10.1186/s12891-015-0637-8"
    "&link_type=DOI",
    population="Knee OA grade 1–3, aged 45–70",
    confidence="primary (abstract); not general older adults",
)
SRC_CESARI = Source(
    citation="Cesari 2005, J Am Geriatr Soc (usual pace over 6 m)",
    web_address="https://www.medscape.com/viewarticle/514260",
    population="Well-functioning older adults",
    confidence="secondary",
)
SRC_SCHMID = Source(
    citation="Schmid et al. 2007, Stroke (post-stroke walking classes, after Perry 1995)",
    web_address="https://scribd.com/document/669555190/STROKEAHA-106-475921",
    population="People after stroke",
    confidence="primary",
)
SRC_PERERA = Source(
    citation="Perera et al. 2006, J Am Geriatr Soc",
    web_address="https://scilit.net/publications/d68e386fffbd2cf0525912b412bab333",
    population="Community older adults (n = 492), mobility-disabled older adults (n = 100), "
    "subacute stroke (n = 100)",
    confidence="primary (abstract)",
)
SRC_KWON = Source(
    citation="Kwon et al. 2009 (LIFE-P)",
    web_address="https://pubmed.ncbi.nlm.nih.gov/19536422/",
    population="Sedentary adults aged 70–89",
    confidence="primary (abstract)",
)
SRC_TUG_BOHANNON = Source(
    citation="Bohannon 2006, J Geriatr Phys Ther 29(2):64–68",
    web_address="https://journals.lww.com/jgpt/Fulltext/2006/08000/"
    "Reference_Values_for_the_Timed_Up_and_Go_Test__A.4.aspx",
    population="Apparently healthy elders (meta-analysis of 21 studies)",
    confidence="primary",
)
SRC_TUG_STEFFEN = Source(
    citation="Steffen, Hacker & Mollinger 2002, Phys Ther 82(2):128–137",
    web_address="https://www.sralab.org/rehabilitation-measures/timed-and-go",
    population="96 community-dwelling adults aged 61–89 (8–22 per age and sex group)",
    confidence="single secondary — a reproduction of the paper's table",
)
SRC_GAIT_DECADE = Source(
    citation="Bohannon & Andrews 2011, Physiotherapy 97(3):182–189",
    web_address="https://help.plantiga.com/walk-average-speed",
    population="Meta-analysis of 41 articles, 23,111 healthy adults, normal pace over 3–30 m",
    confidence="decade table from 2–3 agreeing reproductions (1–2 below age 60); the oldest "
    "band 80–99 and the extremes confirmed in the abstract",
)
SRC_KWOK = Source(
    citation="Kwok et al. 2013, BMC Geriatr 13:23",
    web_address="https://link.springer.com/doi/10.1186/1471-2318-13-23",
    population="Frail Asian older adults",
    confidence="primary",
)
SRC_CAMARRI = Source(
    citation="Camarri et al. 2006, Respir Med 100:658",
    web_address="https://es.scribd.com/document/152248760/Six-Minute-Walk-Distance-in-Healthy-Subjects-"
    "Aged-55-75-Year",
    population="Healthy adults aged 55–75",
    confidence="secondary",
)
SRC_STEADI_BALANCE = Source(
    citation="CDC STEADI 4-Stage Balance Test",
    web_address="https://injurymatters.org.au/programs/stay-on-your-feet/information-for-health-and-"
    "community-workers/falls-screening-and-assessment-tools/4-stage-balance-test",
    population="Older adults",
    confidence="secondary",
)
SRC_BBS_CUT = Source(
    citation="Commonly quoted Berg cut-off; Muir et al. 2008, Phys Ther 88:449",
    web_address="https://wis.it.com/what-is-the-berg-balance-cutoff-for-fall-risk",
    population="Community-dwelling older adults",
    confidence="single secondary; Muir 2008 primary",
)
SRC_BBS_BANDS = Source(
    citation="Berg interpretation bands (secondary summary)",
    web_address="https://calculatorhunt.com/health/berg-balance-test",
    population="Not stated",
    confidence="single secondary",
)
SRC_DONOGHUE = Source(
    citation="Donoghue & Stokes 2009, J Rehabil Med 41:343",
    web_address="https://medicaljournals.se/jrm/content/abstract/10.2340/16501977-0337",
    population="118 adults over 65 in physiotherapy rehabilitation (no stroke, PD or recent hip "
    "arthroplasty)",
    confidence="primary (abstract)",
)
SRC_ROMERO = Source(
    citation="Romero et al. 2011, J Geriatr Phys Ther 34:131",
    web_address="http://journals.lww.com/jgpt/Fulltext/2011/07000/Minimum_Detectable_Change_of_the_Berg_"
    "Balance.5.aspx",
    population="42 community dwellers over 65 with a history of falls or near-falls",
    confidence="primary (abstract)",
)
SRC_BBS_STROKE = Source(  # docs/clinical.md §2.7 (Berg MCID, acute stroke only)
    citation="Song, Lee & Shin 2018, Phys Ther Rehabil Sci 7:102 (acute stroke)",
    web_address="http://www.jptrs.org/journal/view.html?uid=176&vmd=Full",
    population="Acute stroke only (73 people with acute stroke)",
    confidence="primary (abstract)",
)
SRC_GRIP_MCID = Source(
    citation="Bohannon 2019 systematic review, J Phys Ther Sci 31:75",
    web_address="http://47.251.13.51:8081/30774209",
    population="Systematic review (populations not stated in the reference)",
    confidence="secondary mirror",
)
SRC_LOINC_GRIP = Source(
    citation="LOINC 83145-3 panel", web_address="https://loinc.org/83145-3", confidence="primary"
)
SRC_JOSPT_2014 = Source(
    citation="JOSPT 2014;44(8):560 (MIDs for PSFS, 4 region-specific measures and NPRS)",
    web_address="https://www.integrative-archives.com/2014/04/minimum-important-differences-for-the-"
    "patient-specific-functional-scale-4-region-specific-outcome-measures-and-the-numeric-"
    "pain-rating-scale/",
    population="1,708 musculoskeletal outpatients",
    confidence="secondary (abstract)",
)
SRC_STRATFORD_PSFS = Source(
    citation="Stratford et al. 1995",
    web_address="https://www.precisionphysio.com.au/the-patient-specific-functional-scale/",
    population="Musculoskeletal patients (population not stated in the reference)",
    confidence="secondary",
)
SRC_BINKLEY = Source(
    citation="Binkley et al. 1999, Phys Ther 79:371",
    web_address="http://ptjournal.apta.org/content/79/4/371.short",
    population="Lower-extremity musculoskeletal outpatients",
    confidence="primary (abstract)",
)
SRC_LEFS_NORM = Source(
    citation="Acta Orthop 2017 (LEFS population norms)",
    web_address="https://informahealthcare.com/doi/full/10.1080/17453674.2017.1309886",
    population="Healthy population",
    confidence="secondary",
)
SRC_ODI_BANDS = Source(
    citation="Fairbank (ODI interpretation bands, ASIR table)",
    web_address="https://asir-journal.biomedcentral.com/articles/10.1186/1750-1164-7-12/tables/1",
    population="Low back pain",
    confidence="secondary",
)
SRC_ODI_MDC = Source(
    citation="ODI form footnote (secondary)",
    web_address="https://www.idcafe.net/how-is-the-oswestry-disability-scale-scored/",
    population="Low back pain (population not stated in the reference)",
    confidence="single secondary",
)
SRC_ODI_LOINC = Source(  # docs/clinical.md §3.3: confirmed on loinc.org
    citation="LOINC 97909-6 Oswestry disability index score",
    web_address="https://loinc.org/97909-6",
    population="",
    confidence="primary",
)
SRC_VERNON = Source(
    citation="Vernon, NDI scoring note",
    web_address="https://chiro.org/forms/NDI_Explain.shtml",
    population="Neck pain (population not stated in the reference)",
    confidence="secondary (instrument author's note)",
)
SRC_STRATFORD_NDI = Source(
    citation="Stratford et al. 1999",
    web_address="http://evidenceinphysicaltherapy.wikidot.com/neck-disability-index",
    population="Neck pain (population not stated in the reference)",
    confidence="secondary",
)
SRC_NDI_LOINC = Source(  # docs/clinical.md §3.4
    citation="LOINC 82237-9 Total score [NDI], as used in agreeing FHIR implementation guides",
    confidence="two agreeing secondaries",
)
SRC_SORENSEN = Source(
    citation="Sorensen et al. 2013, J Hand Surg",
    web_address="https://issh.org/outcome-measures-general",
    population="Upper-limb patients (population not stated in the reference)",
    confidence="secondary",
)
SRC_CHILDS = Source(
    citation="Childs et al. 2005, Spine 30:1331",
    web_address="https://pubmed.ncbi.nlm.nih.gov/15928561/",
    population="Low back pain patients in physical therapy",
    confidence="primary (abstract)",
)
SRC_NPRS_BASELINE = Source(
    citation="Baseline-dependent NPRS MCID (Thieme)",
    web_address="https://thieme-connect.de/products/all/doi/10.1055/a-1304-3677",
    population="Not stated in the reference",
    confidence="secondary",
)
SRC_NPRS_LOINC = Source(
    citation="HL7 Belgium patient-monitoring IG; ANS (France) FSH profile",
    web_address="https://build.fhir.org/ig/hl7-be/patient-monitoring/ValueSet-pain-scale.html",
    confidence="two agreeing secondaries",
)
SRC_ACC_AHA = Source(
    citation="2017 ACC/AHA blood pressure guideline (Whelton 2018; MSD Manual table)",
    web_address="https://www.msdmanuals.com/en-pt/home/multimedia/table/classification-of-blood-pressure-"
    "in-adults",
    population="Adults",
    confidence="secondary reproductions of the guideline table",
)
SRC_ACSM_BOX35 = Source(
    citation="ACSM GETP Box 3.5 relative contraindications (modified from ACC/AHA 2002)",
    web_address="https://yumpu.com/en/document/view/67485487/acsm042-082/37",
    population="Adults before exercise testing",
    confidence="secondary excerpt",
)
SRC_ATS_6MWT = Source(
    citation="ATS 2002 six-minute walk test guideline",
    web_address="https://ckm.highmed.org/ckm/archetypes/1246.145.1730",
    population="Adults before a 6-minute walk test",
    confidence="secondary",
)
SRC_VITALS_LOINC = Source(
    citation="HL7 FHIR vital-signs value set",
    web_address="http://hl7.org/fhir/R4B/valueset-observation-vitalsignresult.html",
    confidence="primary",
)
SRC_CDC_BMI = Source(
    citation="CDC adult BMI categories",
    web_address="https://cdc.gov/bmi/adult-calculator/bmi-categories.html",
    population="Adults aged 20 and over",
    confidence="primary",
)
SRC_WAIST = Source(
    citation="ACSM risk-factor definition (GETP 8th ed., quoted from study notes)",
    web_address="https://quizwizapp.com/fr/study/acsm-guidelines-for-exercise-testing-and-prescription-"
    "8th-edition",
    population="Adults",
    confidence="single secondary",
)
SRC_WAIST_LOINC = Source(
    citation="Lithuanian vital-signs IG; HL7 Europe examples; ANS FSH",
    web_address="https://build.fhir.org/ig/HL7LT/ig-lt-vitalsigns/en/ValueSet-waist-circumference-"
    "observation-loinc.html",
    confidence="two agreeing secondaries",
)

SRC_EVS = Source(  # docs/clinical.md §4.5
    citation="Coleman et al. 2012, Med Sci Sports Exerc 44(11):2071–2076 (Exercise Vital Sign)",
    web_address="https://www.scribd.com/document/453881646/PA-vital-sign-Kaiser-Permanente-HL-pdf",
    population="Adults 18 and over in a US health system (n = 1,793,385)",
    confidence="primary (copy of the article)",
)
SRC_PAG = Source(  # docs/clinical.md §4.5
    citation="Physical Activity Guidelines for Americans, 2nd ed. (US HHS 2018)",
    web_address="https://health.gov/our-work/nutrition-physical-activity/physical-activity-"
    "guidelines/current-guidelines",
    population="Adults, including older adults",
    confidence="primary",
)
SRC_EVS_LOINC = Source(  # docs/clinical.md §4.5
    citation="HL7 Physical Activity Implementation Guide 1.0.0, PA Observation Vital Sign Codes",
    web_address="https://hl7.org/fhir/us/physical-activity/ValueSet-pa-observation-code-evs.html",
    confidence="primary",
)

# ---------------------------------------------------------------------------------------------
# Table helpers
# ---------------------------------------------------------------------------------------------

SFT_AGES: tuple[tuple[int, int], ...] = (
    (60, 64),
    (65, 69),
    (70, 74),
    (75, 79),
    (80, 84),
    (85, 89),
    (90, 94),
)


def _sft_norms(
    men: Sequence[tuple[float, float]],
    women: Sequence[tuple[float, float]],
    source: Source,
    row_notes: Mapping[tuple[str, int], str] | None = None,
) -> tuple[NormBand, ...]:
    out: list[NormBand] = []
    for sex, rows in (("male", men), ("female", women)):
        for (a0, a1), (lo, hi) in zip(SFT_AGES, rows, strict=True):
            note = (row_notes or {}).get((sex, a0), "")
            out.append(
                NormBand(
                    sex=sex,
                    age_min=a0,
                    age_max=a1,
                    low=min(lo, hi),
                    high=max(lo, hi),
                    source=source,
                    notes=note,
                )
            )
    return tuple(out)


def _sft_cutoffs(
    men: Sequence[float],
    women: Sequence[float],
    comparison: Comparison,
    meaning: str,
    source: Source,
    kind: str,
    notes: str = "",
) -> tuple[Cutoff, ...]:
    out: list[Cutoff] = []
    for sex, values in (("male", men), ("female", women)):
        for (a0, a1), v in zip(SFT_AGES, values, strict=True):
            out.append(
                Cutoff(
                    value=v,
                    comparison=comparison,
                    meaning=meaning,
                    source=source,
                    kind=kind,
                    sex=sex,
                    age_min=a0,
                    age_max=a1,
                    notes=notes,
                )
            )
    return tuple(out)


def _items(prefix: str, labels: Sequence[str], lo: int, hi: int) -> tuple[ItemDef, ...]:
    return tuple(
        ItemDef(key=f"{prefix}_{i:02d}", label=label, min=lo, max=hi)
        for i, label in enumerate(labels, start=1)
    )


CHAIR_17IN = ProtocolField(
    key="chair_height",
    label="Chair height",
    kind="choice",
    choices=("17 in (43 cm), no arms, against a wall", "other (note the height)"),
    default="17 in (43 cm), no arms, against a wall",
)
ASSISTIVE_DEVICE = ProtocolField(
    key="device",
    label="Walking aid",
    kind="choice",
    choices=("none", "cane", "walker", "other"),
    default="none",
)

# ---------------------------------------------------------------------------------------------
# Catalogue
# ---------------------------------------------------------------------------------------------

_CHAIR_STAND = MeasureDefinition(
    id="chair_stand_30s",
    name="30-Second Chair Stand",
    short_name="30s chair stand",
    category="strength",
    unit="stands",
    unit_singular="stand",
    direction="higher_is_better",
    valid_min=0,
    valid_max=50,
    valid_range_note="No published ceiling found; 50 is this app's plausibility limit.",
    decimals=0,
    description="Lower-body strength and endurance; fall risk.",
    scoring="Full stands in 30 s, arms crossed; more than halfway up at 30 s counts as a "
    "stand. If the arms are used, stop and record 0 (CDC STEADI).",
    protocol=(
        CHAIR_17IN,
        ProtocolField(
            key="arms_used",
            label="Arms used to stand",
            kind="yes_no",
            default=False,
            help="If yes, the STEADI score is 0.",
        ),
    ),
    norms=_sft_norms(
        men=((14, 19), (13, 18), (12, 17), (11, 17), (10, 15), (8, 14), (7, 12)),
        women=((12, 17), (11, 16), (10, 15), (10, 15), (9, 14), (8, 13), (4, 11)),
        source=SRC_SFT_2013,
        row_notes={
            ("male", 65): "Sources conflict: 2013 reproduction 13–18, 1999 reproduction 12–18. "
            "Lower limit 13 kept (conservative: does not call 12 stands average).",
            ("male", 85): "Sources conflict: 2013 reproduction 8–13, 1999 reproduction 8–14. "
            "Upper limit 14 taken from 1999 (conservative: 14 stands is not called above "
            "average).",
        },
    ),
    cutoffs=(
        *_sft_cutoffs(
            men=(14, 12, 12, 11, 10, 8, 7),
            women=(12, 11, 10, 10, 9, 8, 4),
            comparison="<",
            meaning="At risk for falls",
            source=SRC_STEADI_CHAIR,
            kind="fall_risk",
            notes="Below the STEADI 'below average' score for age and sex. A screen, not a "
            "diagnosis.",
        ),
        Cutoff(
            value=8,
            comparison="<",
            meaning="Associated with lower functional ability",
            source=SRC_SFT_1999,
            kind="function",
            age_min=60,
            age_max=94,
            notes="Rikli & Jones: fewer than 8 unassisted stands.",
        ),
    ),
    mdc=(
        ChangeThreshold(
            value=2.5,
            source=SRC_GILL_KNEE_OA,
            population="People with early knee osteoarthritis (n = 93)",
            condition="knee_oa",
            notes="Individual MDC ≈2.5 stands; practice effect 0.5–0.8 stands between trials. "
            "No MDC for community older adults on file.",
        ),
    ),
    loinc="66247-8",
    loinc_source=Source(
        citation="LOINC 66247-8 Sit to stand frequency in 30 seconds",
        web_address="https://loinc.org/66247-8",
        confidence="primary",
    ),
    loinc_note="93125-3 is the modified test using the arms; not used here.",
    notes=(
        "Normal ranges are the 25th–75th percentile of community-residing adults 60–94; "
        "'below the range' is not a diagnosis.",
        "Fall-risk flags use the STEADI cut-offs, which equal the lower limits of the 1999 "
        "ranges; the normal ranges follow the 2013 edition.",
        "No MCID on file.",
    ),
)

_FIVE_STS = MeasureDefinition(
    id="five_times_sts",
    name="Five Times Sit-to-Stand",
    short_name="5x sit-to-stand",
    category="strength",
    unit="s",
    direction="lower_is_better",
    valid_min=0,
    min_inclusive=False,
    valid_max=120,
    valid_range_note="More than 0 s (reference). 120 s is this app's plausibility limit.",
    decimals=1,
    description="Functional lower-limb strength, transfers, dynamic balance.",
    scoring="Five stands as fast as possible, arms folded. The test fails if the client cannot "
    "do 5 stands without using the arms.",
    protocol=(
        ProtocolField(
            key="end_point",
            label="Timing stopped",
            kind="choice",
            choices=("at the 5th stand", "when seated after the 5th stand"),
            help="Protocols differ: record which end-point was used.",
        ),
        CHAIR_17IN,
    ),
    norms=(
        NormBand(
            sex=None,
            age_min=60,
            age_max=69,
            low=None,
            high=11.4,
            source=SRC_BOHANNON_5XSTS,
            statistic="average limit",
        ),
        NormBand(
            sex=None,
            age_min=70,
            age_max=79,
            low=None,
            high=12.6,
            source=SRC_BOHANNON_5XSTS,
            statistic="average limit",
        ),
        NormBand(
            sex=None,
            age_min=80,
            age_max=89,
            low=None,
            high=14.8,
            source=SRC_BOHANNON_5XSTS,
            statistic="average limit",
        ),
    ),
    cutoffs=(
        Cutoff(
            value=12,
            comparison=">=",
            meaning="Increased fall risk (post-test fall probability 41% vs 20% below 12 s)",
            source=SRC_LUSARDI,
            kind="fall_risk",
        ),
        Cutoff(
            value=13.6,
            comparison=">=",
            meaning="Linked to disability and morbidity",
            source=SRC_GURALNIK,
            kind="function",
        ),
        Cutoff(
            value=15,
            comparison=">=",
            meaning="Predicts recurrent falls (sensitivity 55%, specificity 65%)",
            source=SRC_BUATOIS,
            kind="fall_risk",
            age_min=65,
        ),
        Cutoff(
            value=15,
            comparison=">",
            meaning="Low physical performance (sarcopenia criterion)",
            source=SRC_EWGSOP2,
            kind="sarcopenia",
        ),
    ),
    mdc=(
        ChangeThreshold(
            value=2.5,
            source=SRC_GOLDBERG,
            population="Community-dwelling older women, mean age 73.6 (n = 29)",
            notes="MDC95; SEM 0.9 s; ICC 0.95.",
        ),
    ),
    mcid=(
        ChangeThreshold(
            value=2.6,
            source=SRC_SAGE,
            population="Community-dwelling adults 60–96 (SAGE Mexico, n = 897)",
            notes="Absolute cut-point 2.6 s (0.5–4.7 s by method); relative 27.7%. A decline "
            "of this size predicted ADL disability (aRR 1.93).",
        ),
    ),
    notes=(
        "MCID 2.3 s / MDC 3.6–4.2 s on a secondary site has no stated population "
        "(no source found): not used.",
        "AWGS 2019 uses ≥12 s (same as the fall-risk cut-off).",
        "LOINC: none on file.",
    ),
)

_TUG = MeasureDefinition(
    id="tug",
    name="Timed Up and Go",
    short_name="TUG",
    category="mobility",
    unit="s",
    direction="lower_is_better",
    valid_min=0,
    min_inclusive=False,
    valid_max=300,
    valid_range_note="More than 0 s; 300 s is this app's plausibility limit.",
    decimals=1,
    description="Functional mobility; fall risk.",
    scoring="Rise from a chair, walk 3 m (10 ft) at normal pace, turn, return and sit. The "
    "usual walking aid is allowed.",
    protocol=(
        ASSISTIVE_DEVICE,
        ProtocolField(
            key="distance",
            label="Walk distance",
            kind="choice",
            choices=("3 m", "10 ft"),
            default="3 m",
        ),
    ),
    cutoffs=(
        Cutoff(
            value=12,
            comparison=">=",
            meaning="At risk for falling",
            source=SRC_STEADI_TUG,
            kind="fall_risk",
            notes="A screen, not a diagnosis: with a ≥13.5 s cut-off a meta-analysis found "
            "specificity 0.74 and sensitivity 0.31 and advised it 'should not be used in "
            "isolation' (Barry 2014).",
        ),
        Cutoff(
            value=20,
            comparison=">=",
            meaning="Very low physical performance (EWGSOP2 severe-sarcopenia criterion)",
            source=SRC_TUG_EWGSOP2,
            kind="sarcopenia",
        ),
    ),
    mdc=(
        ChangeThreshold(
            value=1.14,
            source=SRC_TUG_KNEE_OA,
            population="Knee osteoarthritis grade 1–3, aged 45–70",
            condition="knee_oa",
            notes="1.10 s single rater; 1.14 s between raters (the larger is used because "
            "raters may differ between assessments).",
        ),
    ),
    # docs/clinical.md §2.4: Bohannon 2006 mean (95% CI) 60–69 8.1 (7.1–9.0), 70–79 9.2
    # (8.2–10.2), 80–99 11.3 (10.0–12.7); the author's rule: above the upper CI limit is worse
    # than average. The CI is that of a pooled mean, hence "slower than average for age".
    norms=tuple(
        NormBand(
            sex=None,
            age_min=a0,
            age_max=a1,
            low=None,
            high=upper,
            source=SRC_TUG_BOHANNON,
            statistic=f"upper 95% confidence limit of the mean time (mean {mean} s)",
            worse_words="slower than average for age",
            not_worse_words="not slower than average for age",
            notes="The confidence interval of a pooled mean, not a range for individuals: "
            "many healthy people are slower. Not a fall-risk finding.",
        )
        for a0, a1, mean, upper in ((60, 69, 8.1, 9.0), (70, 79, 9.2, 10.2), (80, 99, 11.3, 12.7))
    ),
    # Steffen 2002 mean (SD) by age and sex, one reproduction: a reference value, never a flag.
    reference_values=tuple(
        ReferenceValue(
            sex=sex,
            age_min=a0,
            age_max=a0 + 9,
            value=mean,
            sd=sd,
            statistic="mean",
            source=SRC_TUG_STEFFEN,
        )
        for sex, rows in (
            ("male", ((60, 8, 2), (70, 9, 3), (80, 10, 1))),
            ("female", ((60, 8, 2), (70, 9, 2), (80, 11, 3))),
        )
        for a0, mean, sd in rows
    ),
    loinc="89423-8",
    loinc_source=Source(
        citation="LOINC 89423-8 (panel 89422-0)",  # docs/clinical.md §2.4: loinc.org
        web_address="https://loinc.org/89422-0",
        confidence="primary",
    ),
    notes=(
        "Age norms: Bohannon 2006 (ages 60–99); Steffen 2002 means shown for reference only.",
        "MDC/MCID for community older adults: none on file.",
    ),
)

_UP_AND_GO_8FT = MeasureDefinition(
    id="up_and_go_8ft",
    name="8-Foot Up-and-Go",
    short_name="8-ft up-and-go",
    category="mobility",
    unit="s",
    direction="lower_is_better",
    valid_min=0,
    min_inclusive=False,
    valid_max=120,
    valid_range_note="More than 0 s; 120 s is this app's plausibility limit.",
    decimals=1,
    description="Agility and dynamic balance (Senior Fitness Test).",
    scoring="Best of 2 trials to 0.1 s; ~17-in chair; cone 8 ft away.",
    protocol=(
        CHAIR_17IN,
        ProtocolField(key="trials", label="Trials", kind="number", default=2),
        ProtocolField(
            key="summary", label="Recorded", kind="choice", choices=("best", "mean"), default="best"
        ),
    ),
    norms=_sft_norms(
        men=((5.6, 3.8), (5.7, 4.3), (6.0, 4.2), (7.2, 4.6), (7.6, 5.2), (8.9, 5.3), (10.0, 6.2)),
        women=(
            (6.0, 4.4),
            (6.4, 4.8),
            (7.1, 4.9),
            (7.4, 5.2),
            (8.7, 5.7),
            (9.6, 6.2),
            (11.5, 7.3),
        ),
        source=SRC_8FT,
    ),
    notes=("A time above the upper number of the range is below average.", "LOINC: none on file."),
)

_STEP_2MIN = MeasureDefinition(
    id="step_test_2min",
    name="2-Minute Step Test",
    short_name="2-min step",
    category="endurance",
    unit="steps",
    unit_singular="step",
    direction="higher_is_better",
    valid_min=0,
    valid_max=250,
    valid_range_note="250 is this app's plausibility limit.",
    decimals=0,
    description="Aerobic endurance (Senior Fitness Test).",
    scoring="Count right-knee lifts to a height midway between patella and iliac crest in "
    "2 minutes.",
    norms=_sft_norms(
        men=((87, 115), (86, 116), (86, 116), (80, 110), (73, 107), (65, 92), (59, 91)),
        women=((75, 107), (73, 107), (75, 107), (70, 100), (65, 98), (60, 90), (52, 87)),
        source=SRC_SFT_2013,
    ),
    cutoffs=_sft_cutoffs(
        men=(106, 101, 95, 88, 80, 71, 60),
        women=(97, 93, 89, 84, 78, 70, 60),
        comparison="<",
        meaning="Below the criterion score for staying physically independent",
        source=SRC_SFT_2013,
        kind="function",
        notes="Rikli & Jones 2013 criterion-referenced standard; meeting the score counts as "
        "meeting the standard.",
    ),
    notes=("LOINC: none on file.",),
)

_GAIT = MeasureDefinition(
    id="gait_speed",
    name="Gait speed (usual pace)",
    short_name="Gait speed",
    category="mobility",
    unit="m/s",
    direction="higher_is_better",
    valid_min=0,
    min_inclusive=False,
    valid_max=3.0,
    valid_range_note="More than 0; 3.0 m/s is this app's plausibility limit for walking.",
    decimals=2,
    description="Walking speed, the 'functional vital sign'.",
    scoring="Distance ÷ time. Pace, distance and start type change values materially: record them.",
    protocol=(
        ProtocolField(
            key="distance_m",
            label="Timed distance",
            kind="choice",
            choices=("4 m", "6 m", "10 m", "other"),
            unit="m",
        ),
        ProtocolField(
            key="pace", label="Pace", kind="choice", choices=("usual", "fast"), default="usual"
        ),
        ProtocolField(
            key="start",
            label="Start",
            kind="choice",
            choices=("static", "rolling"),
        ),
        ASSISTIVE_DEVICE,
        ProtocolField(key="trials", label="Trials", kind="number", default=1),
        ProtocolField(
            key="summary", label="Recorded", kind="choice", choices=("best", "mean"), default="best"
        ),
    ),
    cutoffs=(
        Cutoff(
            value=1.0,
            comparison="<",
            meaning="High risk of limitation, hospitalisation and death",
            source=SRC_CESARI,
            kind="function",
            requires=(("pace", "usual"),),
            notes="Usual pace over 6 m in well-functioning older adults. AWGS also uses "
            "<1.0 m/s over 6 m.",
        ),
        Cutoff(
            value=0.8,
            comparison="<=",
            meaning="Low physical performance (EWGSOP2 severe-sarcopenia criterion)",
            source=SRC_EWGSOP2,
            kind="sarcopenia",
            requires=(("pace", "usual"),),
        ),
    ),
    mcid=(
        ChangeThreshold(
            value=0.05,
            source=SRC_PERERA,
            population="Community older adults, mobility-disabled older adults, subacute stroke",
            level="minimal",
            notes="Small meaningful change ≈0.05 m/s (range 0.04–0.06).",
        ),
        ChangeThreshold(
            value=0.10,
            source=SRC_PERERA,
            population="Community older adults, mobility-disabled older adults, subacute stroke",
            level="substantial",
            notes="Substantial change ≈0.10 m/s (range 0.08–0.14).",
        ),
        ChangeThreshold(
            value=0.05,
            source=SRC_KWON,
            population="Sedentary adults 70–89 (4-m walk)",
            alternate=True,
            notes="Minimally significant change 0.03–0.05 m/s; substantial 0.08 m/s.",
        ),
    ),
    reference_values=tuple(
        ReferenceValue(
            sex=sex,
            age_min=a0,
            # docs/clinical.md §2.5: the paper's oldest stratum is 80–99 (confirmed abstract).
            age_max=99 if a0 == 80 else a0 + 9,
            value=v,
            statistic="mean",
            source=SRC_GAIT_DECADE,
            notes="Normal pace over 3–30 m; may not apply to a short course started on 'go' "
            "or with a turn.",
        )
        for sex, values in (
            ("male", (1.36, 1.43, 1.43, 1.43, 1.34, 1.26, 0.97)),
            ("female", (1.34, 1.34, 1.39, 1.31, 1.24, 1.13, 0.94)),
        )
        for a0, v in zip(range(20, 90, 10), values, strict=True)
    ),
    bands=(
        BandScheme(
            name="Post-stroke walking class",
            bands=(
                Band(
                    label="household ambulation (post-stroke class)",
                    upper=0.4,
                    upper_inclusive=False,
                ),
                Band(label="limited community ambulation (post-stroke class)", upper=0.8),
                Band(label="community ambulation (post-stroke class)", upper=None),
            ),
            source=SRC_SCHMID,
            condition="stroke",
            notes="Derived in people after stroke; do not apply to other clients.",
        ),
    ),
    loinc="83172-7",
    loinc_source=Source(
        citation="LOINC 83144-6 panel (NIH Toolbox)",
        web_address="https://loinc.org/83144-6",
        confidence="primary",
    ),
    loinc_note="83172-7 is the 4-m walk computed gait speed (NIH Toolbox); use only for that "
    "protocol.",
    notes=(
        "Decade means are averages, not ranges: shown for reference, never used to classify.",
        "Household/community thresholds for older adults without stroke: none on file.",
        "No MDC on file.",
    ),
)

_SIX_MW = MeasureDefinition(
    id="six_minute_walk",
    name="6-Minute Walk Test",
    short_name="6MWT",
    category="endurance",
    unit="m",
    direction="higher_is_better",
    valid_min=0,
    valid_max=1200,
    valid_range_note="1200 m is this app's plausibility limit.",
    decimals=0,
    description="Submaximal functional exercise capacity.",
    scoring="ATS 2002: standing rests allowed with the clock running. Record rests, walking aid "
    "and assistance.",
    protocol=(
        ProtocolField(key="course_m", label="Course length", kind="number", unit="m"),
        ProtocolField(key="rests", label="Standing rests", kind="number", default=0),
        ASSISTIVE_DEVICE,
        ProtocolField(key="assistance", label="Assistance", kind="text"),
    ),
    mcid=(
        ChangeThreshold(
            value=20,
            source=SRC_PERERA,
            population="Community older adults, mobility-disabled older adults, subacute stroke",
            level="minimal",
            notes="Small meaningful change ≈20 m (19–22).",
        ),
        ChangeThreshold(
            value=50,
            source=SRC_PERERA,
            population="Community older adults, mobility-disabled older adults, subacute stroke",
            level="substantial",
            notes="Substantial change ≈50 m (47–49).",
        ),
        ChangeThreshold(
            value=17.8,
            source=SRC_KWOK,
            population="Frail Asian older adults",
            alternate=True,
            notes="Anchor-based 17.8 m; distribution-based 12.9 m.",
        ),
    ),
    reference_values=(
        ReferenceValue(
            sex=None,
            age_min=55,
            age_max=75,
            value=659,
            sd=62,
            statistic="mean",
            source=SRC_CAMARRI,
            notes="Men walked 59 m further than women.",
        ),
    ),
    loinc="62619-2",
    loinc_source=Source(
        citation="LOINC 62619-2", web_address="https://loinc.org/62619-2", confidence="primary"
    ),
    loinc_note="The code of the PhenX six-minute walk panel.",
    notes=(
        "SFT 6-minute-walk normal ranges: none on file.",
        "Enright & Sherrill equations are single secondary and their lower limit of normal is "
        "not confirmed against the paper: not used.",
        "Contraindications before the test (ATS): unstable angina or MI in the previous month "
        "(absolute); resting HR >120, SBP >180, DBP >100 (relative).",
        "No MDC on file.",
    ),
)

_FOUR_STAGE = MeasureDefinition(
    id="four_stage_balance",
    name="4-Stage Balance Test (STEADI)",
    short_name="4-stage balance",
    category="balance",
    unit="stage",
    direction="higher_is_better",
    valid_min=0,
    valid_max=4,
    valid_range_note="Highest stage held 10 s: 0 (none) to 4 (single leg).",
    decimals=0,
    description="Static balance; fall screen.",
    scoring="Feet together → semi-tandem → tandem → single leg, 10 s each. Score = the highest "
    "consecutive stage held for 10 s.",
    protocol=tuple(
        ProtocolField(key=f"stage{i}_s", label=f"Stage {i} seconds held", kind="number", unit="s")
        for i in range(1, 5)
    ),
    cutoffs=(
        Cutoff(
            value=3,
            comparison="<",
            meaning="Increased fall risk: cannot hold tandem stance for 10 s",
            source=SRC_STEADI_BALANCE,
            kind="fall_risk",
        ),
    ),
    notes=("LOINC: none on file.",),
)

_SLS = MeasureDefinition(
    id="single_leg_stance",
    name="Single-leg stance",
    short_name="Single-leg stance",
    category="balance",
    unit="s",
    direction="higher_is_better",
    valid_min=0,
    valid_max=120,
    valid_range_note="120 s is this app's plausibility limit; record the cap used.",
    decimals=1,
    description="Static balance.",
    scoring="Seconds held, up to the cap.",
    protocol=(
        ProtocolField(key="eyes", label="Eyes", kind="choice", choices=("open", "closed")),
        ProtocolField(key="leg", label="Leg", kind="choice", choices=("left", "right")),
        ProtocolField(
            key="cap_s", label="Time cap", kind="choice", choices=("30 s", "45 s", "other")
        ),
        ProtocolField(key="trials", label="Trials", kind="number", default=3),
        ProtocolField(
            key="summary", label="Recorded", kind="choice", choices=("best", "mean"), default="best"
        ),
    ),
    notes=(
        "Springer 2007 norms: the two copies of its table disagree, so none on file.",
        "Cut-offs, MDC, MCID and LOINC: none on file.",
    ),
)

# The 20 LEFS activities in short words, in the published order (Binkley 1999; docs/clinical.md
# §3.2): labels for the item boxes, not the instrument's wording (§8.5).
LEFS_LABELS = (
    "work, housework or school",
    "hobbies, recreation or sport",
    "getting in or out of the bath",
    "walking between rooms",
    "putting on shoes or socks",
    "squatting",
    "lifting groceries from floor",
    "light activities around home",
    "heavy activities around home",
    "getting in or out of a car",
    "walking 2 blocks",
    "walking a mile",
    "up or down 10 stairs",
    "standing for 1 hour",
    "sitting for 1 hour",
    "running on even ground",
    "running on uneven ground",
    "sharp turns while running fast",
    "hopping",
    "rolling over in bed",
)

BERG_LABELS = (
    "sit to stand",
    "standing unsupported",
    "sitting unsupported",
    "stand to sit",
    "transfers",
    "standing, eyes closed",
    "standing, feet together",
    "reach forward",
    "pick up object from floor",
    "turn to look behind",
    "turn 360°",
    "alternate foot on step",
    "tandem stance",
    "single-leg stance",
)

_BERG = MeasureDefinition(
    id="berg_balance",
    name="Berg Balance Scale",
    short_name="Berg",
    category="balance",
    unit="points",
    unit_singular="point",
    direction="higher_is_better",
    valid_min=0,
    valid_max=56,
    valid_range_note="14 items × 0–4.",
    decimals=0,
    description="Static and dynamic balance.",
    scoring="Sum of 14 items, each 0–4 (total 0–56). The reference gives no rule for missing "
    "items, so all 14 are needed.",
    items=_items("bbs", BERG_LABELS, 0, 4),
    cutoffs=(
        Cutoff(
            value=45,
            comparison="<=",
            meaning="Increased fall risk",
            source=SRC_BBS_CUT,
            kind="fall_risk",
            notes="Sources differ at exactly 45 (commonly '<45'; Muir 2008 tested '≤45'): 45 "
            "is flagged (conservative). Low sensitivity (25% any fall, 45% multiple falls): "
            "do not use alone.",
        ),
    ),
    bands=(
        BandScheme(
            name="Berg band",
            bands=(
                Band(label="wheelchair user (0–20)", upper=20),
                Band(label="walks with assistance (21–40)", upper=40),
                Band(label="independent (41–56)", upper=None),
            ),
            source=SRC_BBS_BANDS,
        ),
    ),
    mdc=(
        ChangeThreshold(
            value=6.5,
            source=SRC_ROMERO,
            population="Community dwellers over 65 with a history of falls or near-falls",
            condition="falls_history",
        ),
        ChangeThreshold(
            value=4,
            source=SRC_DONOGHUE,
            population="Adults over 65 in rehabilitation; baseline 45–56",
            baseline_min=45,
            baseline_max=56,
        ),
        ChangeThreshold(
            value=5,
            source=SRC_DONOGHUE,
            population="Adults over 65 in rehabilitation; baseline 35–44",
            baseline_min=35,
            baseline_max=44,
        ),
        ChangeThreshold(
            value=7,
            source=SRC_DONOGHUE,
            population="Adults over 65 in rehabilitation; baseline 25–34",
            baseline_min=25,
            baseline_max=34,
        ),
        ChangeThreshold(
            value=5,
            source=SRC_DONOGHUE,
            population="Adults over 65 in rehabilitation; baseline 0–24",
            baseline_min=0,
            baseline_max=24,
        ),
    ),
    mcid=(
        ChangeThreshold(
            value=12.5,
            source=SRC_BBS_STROKE,
            population="Acute stroke only",
            condition="acute_stroke",
            notes="Not for community older adults.",
        ),
    ),
    notes=("Total-score LOINC: none on file.",),
)

_GRIP_PROTOCOL = (
    ProtocolField(
        key="device", label="Dynamometer", kind="choice", choices=("Jamar", "Jamar Plus", "other")
    ),
    ProtocolField(key="handle_position", label="Handle position", kind="number"),
    ProtocolField(
        key="posture",
        label="Posture",
        kind="choice",
        choices=("seated, elbow 90°, arm by trunk, wrist neutral", "other"),
        default="seated, elbow 90°, arm by trunk, wrist neutral",
    ),
    ProtocolField(key="trials", label="Trials per hand", kind="number", default=3),
    ProtocolField(
        key="summary", label="Recorded", kind="choice", choices=("best", "mean"), default="best"
    ),
)
_GRIP_MCID = (
    ChangeThreshold(
        value=6.5,
        source=SRC_GRIP_MCID,
        population="Systematic review (populations not stated in the reference)",
        notes="Published range 5.0–6.5 kg; the upper end is used so that improvement is not "
        "over-claimed.",
    ),
)
_GRIP_NOTES = (
    "Age/sex norms (Bohannon 2006, Bohannon ≥75 meta-analysis, Dodds 2014 centiles): tables "
    "not yet read, so no normal range is on file.",
    "Record kg; if the device reads lbf, convert (1 lbf = 0.4536 kg).",
)


def _grip(hand: str, loinc: str) -> MeasureDefinition:
    return MeasureDefinition(
        id=f"grip_{hand}",
        name=f"Grip strength, {hand} hand",
        short_name=f"Grip {hand[0].upper()}",
        category="strength",
        unit="kg",
        direction="higher_is_better",
        valid_min=0,
        valid_max=100,
        valid_range_note="100 kg is this app's plausibility limit.",
        decimals=1,
        description="Hand-grip dynamometry, one hand.",
        scoring="Best (or mean) of the trials for this hand.",
        protocol=_GRIP_PROTOCOL,
        mcid=_GRIP_MCID,
        loinc=loinc,
        loinc_source=SRC_LOINC_GRIP,
        loinc_note="The LOINC code is defined in lbf (Dynamometer [lbf_av]).",
        notes=(
            *_GRIP_NOTES,
            "Sarcopenia cut-offs apply to the stronger hand: see 'Grip strength (stronger hand)'.",
        ),
    )


_GRIP_MAX = MeasureDefinition(
    id="grip_strength",
    name="Grip strength (stronger hand)",
    short_name="Grip",
    category="strength",
    unit="kg",
    direction="higher_is_better",
    valid_min=0,
    valid_max=100,
    valid_range_note="100 kg is this app's plausibility limit.",
    decimals=1,
    description="Hand-grip dynamometry: the higher of the two hands.",
    scoring="Per hand the best (or mean) of its trials; the score is the higher hand.",
    protocol=_GRIP_PROTOCOL,
    cutoffs=(
        Cutoff(
            value=27,
            comparison="<",
            meaning="Probable sarcopenia (low grip strength)",
            source=SRC_EWGSOP2,
            kind="sarcopenia",
            sex="male",
        ),
        Cutoff(
            value=16,
            comparison="<",
            meaning="Probable sarcopenia (low grip strength)",
            source=SRC_EWGSOP2,
            kind="sarcopenia",
            sex="female",
        ),
    ),
    mcid=_GRIP_MCID,
    notes=(
        *_GRIP_NOTES,
        "Other consensus cut-offs (not flagged): FNIH <26 kg men / <16 kg women; AWGS 2019 "
        "<28 / <18 kg.",
    ),
)

_ARM_CURL = MeasureDefinition(
    id="arm_curl",
    name="30-Second Arm Curl",
    short_name="Arm curl",
    category="strength",
    unit="curls",
    unit_singular="curl",
    direction="higher_is_better",
    valid_min=0,
    valid_max=60,
    valid_range_note="60 is this app's plausibility limit.",
    decimals=0,
    description="Upper-body strength (Senior Fitness Test).",
    scoring="Curls in 30 s with an 8-lb weight (men) or 5-lb weight (women).",
    protocol=(
        ProtocolField(
            key="weight_lb",
            label="Weight",
            kind="choice",
            choices=("5 lb", "8 lb", "other"),
            help="Norms assume 8 lb for men and 5 lb for women.",
        ),
        ProtocolField(key="arm", label="Arm", kind="choice", choices=("left", "right")),
    ),
    norms=_sft_norms(
        men=((14, 19), (13, 19), (12, 18), (12, 17), (11, 16), (9, 14), (8, 13)),
        women=((12, 17), (11, 16), (10, 15), (10, 14), (9, 14), (8, 13), (5, 12)),
        source=SRC_SFT_2013,
    ),
    notes=("LOINC: none on file.",),
)

_BACK_SCRATCH = MeasureDefinition(
    id="back_scratch",
    name="Back Scratch",
    short_name="Back scratch",
    category="flexibility",
    unit="in",
    direction="higher_is_better",
    valid_min=-30,
    valid_max=30,
    valid_range_note="±30 in is this app's plausibility limit.",
    decimals=1,
    description="Shoulder flexibility (Senior Fitness Test).",
    scoring="Distance between the middle fingers: + = overlap, − = gap.",
    norms=_sft_norms(
        men=(
            (-6.5, 0.0),
            (-7.5, -1.0),
            (-8.0, -1.0),
            (-9.0, -2.0),
            (-9.5, -2.0),
            (-10.0, -3.0),
            (-10.5, -4.0),
        ),
        women=(
            (-3.0, 1.5),
            (-3.5, 1.5),
            (-4.0, 1.0),
            (-5.0, 0.5),
            (-5.5, 0.0),
            (-7.0, -1.0),
            (-8.0, -1.0),
        ),
        source=SRC_BACK_SCRATCH,
    ),
    notes=(
        "The source prints gap distances without a minus sign; the sign follows its own "
        "legend. The 1999 medians fall inside every band. Verify the sign against the manual.",
    ),
)

_SIT_REACH = MeasureDefinition(
    id="chair_sit_and_reach",
    name="Chair Sit-and-Reach",
    short_name="Sit-and-reach",
    category="flexibility",
    unit="in",
    direction="higher_is_better",
    valid_min=-30,
    valid_max=30,
    valid_range_note="±30 in is this app's plausibility limit.",
    decimals=1,
    description="Lower-body flexibility (Senior Fitness Test).",
    scoring="Distance from fingertips to toes: + = beyond the toes, − = short of them.",
    protocol=(
        ProtocolField(key="leg", label="Leg extended", kind="choice", choices=("left", "right")),
    ),
    norms=(NormBand(sex="male", age_min=60, age_max=64, low=-2.5, high=4.0, source=SRC_SIT_REACH),),
    notes=("Only the men 60–64 row is confirmed; no other row is on file.",),
)

_PSFS = MeasureDefinition(
    id="psfs",
    name="Patient-Specific Functional Scale",
    short_name="PSFS",
    category="questionnaire",
    unit="points",
    unit_singular="point",
    direction="higher_is_better",
    valid_min=0,
    valid_max=10,
    valid_range_note="Each activity 0 (unable) to 10 (able at pre-injury level).",
    decimals=1,
    description="3–5 activities chosen by the client, each rated 0–10.",
    scoring="Mean of the 3–5 activity ratings. Re-rate the same activities at each reassessment.",
    items=_items("psfs", [f"activity {i}" for i in range(1, 6)], 0, 10),
    mdc=(
        ChangeThreshold(
            value=2,
            source=SRC_STRATFORD_PSFS,
            population="Musculoskeletal patients (Stratford 1995)",
            notes="MDC (90% CI) for the average score; 3 points for a single activity.",
        ),
    ),
    mcid=(
        ChangeThreshold(
            value=1.3, source=SRC_JOSPT_2014, population="1,708 MSK outpatients", level="minimal"
        ),
        ChangeThreshold(
            value=2.3, source=SRC_JOSPT_2014, population="1,708 MSK outpatients", level="moderate"
        ),
        ChangeThreshold(
            value=2.7,
            source=SRC_JOSPT_2014,
            population="1,708 MSK outpatients",
            level="substantial",
        ),
    ),
    licence_note="No licensing terms found: the item text is not stored.",
    notes=("LOINC: none on file.",),
)

_LEFS = MeasureDefinition(
    id="lefs",
    name="Lower Extremity Functional Scale",
    short_name="LEFS",
    category="questionnaire",
    unit="points",
    unit_singular="point",
    direction="higher_is_better",
    valid_min=0,
    valid_max=80,
    valid_range_note="20 items × 0–4.",
    decimals=0,
    scoring="Sum of 20 items, each 0–4 (total 0–80). The reference gives no rule for missing "
    "items, so all 20 are needed.",
    items=_items("lefs", LEFS_LABELS, 0, 4),
    mdc=(
        ChangeThreshold(
            value=9,
            source=SRC_BINKLEY,
            population="Lower-extremity musculoskeletal outpatients",
            notes="90% CI.",
        ),
    ),
    mcid=(
        ChangeThreshold(
            value=9,
            source=SRC_BINKLEY,
            population="Lower-extremity musculoskeletal outpatients",
        ),
        ChangeThreshold(
            value=9,
            source=SRC_JOSPT_2014,
            population="1,708 MSK outpatients",
            alternate=True,
            notes="MID 9–16.",
        ),
    ),
    reference_values=(
        ReferenceValue(
            sex=None, age_min=None, age_max=None, value=77, statistic="median", source=SRC_LEFS_NORM
        ),
    ),
    licence_note="No licensing terms found: the item text is not stored.",
    notes=("LOINC: none on file.",),
)

ODI_LABELS = (
    "pain intensity",
    "personal care",
    "lifting",
    "walking",
    "sitting",
    "standing",
    "sleeping",
    "sex life",
    "social life",
    "travelling",
)

_ODI = MeasureDefinition(
    id="oswestry",
    name="Oswestry Disability Index",
    short_name="ODI",
    category="questionnaire",
    unit="%",
    change_unit="points",
    direction="lower_is_better",
    valid_min=0,
    valid_max=100,
    valid_range_note="0–100%.",
    decimals=1,
    scoring="10 sections × 0–5. Index = sum ÷ (5 × sections answered) × 100: each missing "
    "section takes 5 off the denominator.",
    items=_items("odi", ODI_LABELS, 0, 5),
    bands=(
        BandScheme(
            name="Oswestry band (Fairbank)",
            bands=(
                Band(label="minimal disability (0–20%)", upper=20),
                Band(label="moderate disability (21–40%)", upper=40),
                Band(label="severe disability (41–60%)", upper=60),
                Band(label="'crippled' (61–80%)", upper=80),
                Band(label="bed-bound or exaggerating (81–100%)", upper=None),
            ),
            source=SRC_ODI_BANDS,
            notes="A score between two printed bands (e.g. 20.5% with a missing section) falls "
            "in the higher band.",
        ),
    ),
    mdc=(
        ChangeThreshold(
            value=10,
            source=SRC_ODI_MDC,
            population="Low back pain (population not stated in the reference)",
            notes="10 percentage points.",
        ),
    ),
    mcid=(
        ChangeThreshold(
            value=12,
            source=SRC_JOSPT_2014,
            population="1,708 MSK outpatients",
            notes="MID 12 points; the reference assumes the 0–100 scale.",
        ),
    ),
    loinc="97909-6",
    loinc_source=SRC_ODI_LOINC,
    loinc_note="Panel 97908-8 'Oswestry Disability Index'.",
    licence_note="Mapi Research Trust terms govern commercial use: store scores only; the "
    "practitioner uses their own licensed form.",
)

NDI_LABELS = (
    "pain intensity",
    "personal care",
    "lifting",
    "reading",
    "headaches",
    "concentration",
    "work",
    "driving",
    "sleeping",
    "recreation",
)

_NDI = MeasureDefinition(
    id="neck_disability_index",
    name="Neck Disability Index",
    short_name="NDI",
    category="questionnaire",
    unit="points",
    unit_singular="point",
    direction="lower_is_better",
    valid_min=0,
    valid_max=50,
    valid_range_note="Raw score 0–50 (×2 for a percentage).",
    decimals=1,
    scoring="10 items × 0–5, summed (0–50). One missing item: add the mean of the other nine. "
    "The reference rule covers a single missing item, so two or more missing is not scored.",
    items=_items("ndi", NDI_LABELS, 0, 5),
    bands=(
        BandScheme(
            name="NDI band (Vernon)",
            bands=(
                Band(label="no disability (0–4)", upper=4),
                Band(label="mild (5–14)", upper=14),
                Band(label="moderate (15–24)", upper=24),
                Band(label="severe (25–34)", upper=34),
                Band(label="complete (over 34)", upper=None),
            ),
            source=SRC_VERNON,
            notes="A score between two printed bands (e.g. 14.4 with an imputed item) falls in "
            "the higher band.",
        ),
    ),
    mdc=(
        ChangeThreshold(
            value=5,
            source=SRC_VERNON,
            population="Neck pain (population not stated in the reference)",
            notes="Vernon: MCID = MDC = 5 raw points. Stratford 1999 gives MDC90 4.7; the larger "
            "(5) is used.",
        ),
        ChangeThreshold(
            value=4.7,
            source=SRC_STRATFORD_NDI,
            population="Neck pain (population not stated in the reference)",
            alternate=True,
            notes="MDC90.",
        ),
    ),
    mcid=(
        ChangeThreshold(
            value=5,
            source=SRC_VERNON,
            population="Neck pain (population not stated in the reference)",
            notes="JOSPT 2014 gives MID 14 on an assumed 0–100 scale (7 raw points); its scale is "
            "uncertain, so the instrument author's raw-score value is used.",
        ),
        ChangeThreshold(
            value=7,
            source=SRC_JOSPT_2014,
            population="1,708 MSK outpatients",
            alternate=True,
            notes="MID 14 on an assumed 0–100 scale = 7 raw points.",
        ),
    ),
    loinc="82237-9",
    loinc_source=SRC_NDI_LOINC,
    loinc_note="Panel 82226-2 'Neck Disability Index [NDI]'; items 82227-0 … 82236-1.",
    licence_note="No commercial-software terms found: scores only are stored; use your own "
    "copy of the form.",
)

_QUICKDASH = MeasureDefinition(
    id="quickdash",
    name="QuickDASH",
    short_name="QuickDASH",
    category="questionnaire",
    unit="points",
    unit_singular="point",
    direction="lower_is_better",
    valid_min=0,
    valid_max=100,
    valid_range_note="0–100.",
    decimals=1,
    scoring="11 items × 1–5. Score = ((sum ÷ n) − 1) × 25. Not computable if more than 1 item "
    "is missing.",
    items=_items("qd", [f"item {i}" for i in range(1, 12)], 1, 5),
    mcid=(
        ChangeThreshold(
            value=14,
            source=SRC_SORENSEN,
            population="Upper-limb patients (population not stated in the reference)",
            notes="95% CI 9–20. Other sites quote 15.",
        ),
    ),
    licence_note="Commercial software needs a QuickDASH Category B licence from the Institute "
    "for Work & Health. Scores only; the practitioner uses their licensed form.",
    notes=("Severity bands: none on file.", "LOINC: none on file.", "No MDC on file."),
)

_NPRS = MeasureDefinition(
    id="nprs",
    name="Numeric Pain Rating Scale",
    short_name="Pain (NPRS)",
    category="questionnaire",
    unit="/10",
    change_unit="points",
    direction="lower_is_better",
    valid_min=0,
    valid_max=10,
    valid_range_note="Whole number 0 (no pain) to 10 (worst imaginable).",
    decimals=0,
    mdc=(
        ChangeThreshold(
            value=2,
            source=SRC_CHILDS,
            population="Low back pain patients in physical therapy",
            condition="low_back_pain",
        ),
    ),
    mcid=(
        ChangeThreshold(
            value=2.2,
            source=SRC_CHILDS,
            population="Low back pain patients in physical therapy",
            condition="low_back_pain",
            notes="2.2 over 1 week; 1.5 over 4 weeks.",
        ),
        ChangeThreshold(
            value=1,
            source=SRC_NPRS_BASELINE,
            population="Not stated in the reference; baseline 1–4",
            baseline_min=1,
            baseline_max=4,
        ),
        ChangeThreshold(
            value=2,
            source=SRC_NPRS_BASELINE,
            population="Not stated in the reference; baseline 5–7",
            baseline_min=5,
            baseline_max=7,
        ),
        ChangeThreshold(
            value=4,
            source=SRC_NPRS_BASELINE,
            population="Not stated in the reference; baseline 8–10",
            baseline_min=8,
            baseline_max=10,
            notes="Published as 3–4; the upper value is used (conservative).",
        ),
    ),
    loinc="72514-3",
    loinc_source=SRC_NPRS_LOINC,
    loinc_note="Pain severity - 0-10 verbal numeric rating.",
    notes=(
        "0 best identifies 'recovered' in low back pain (Kamper 2010).",
        "MDC 2 was measured in low back pain and is used only for clients with low back pain.",
    ),
)

_RESTING_HR = MeasureDefinition(
    id="resting_hr",
    name="Resting heart rate",
    short_name="Resting HR",
    category="vitals",
    unit="bpm",
    direction="neither",
    valid_min=20,
    valid_max=300,
    valid_range_note="20–300 bpm: the app-wide plausibility limit (heart_rate.py), wide on purpose "
    "so that an alarming real reading is accepted and flagged.",
    decimals=0,
    cutoffs=(
        Cutoff(
            value=120,
            comparison=">",
            meaning="Relative contraindication to the 6-minute walk test",
            source=SRC_ATS_6MWT,
            kind="safety",
        ),
    ),
    loinc="8867-4",
    loinc_source=SRC_VITALS_LOINC,
    notes=("No resting-HR category table confirmed; session flags live with the session log.",),
)

_SBP = MeasureDefinition(
    id="bp_systolic",
    name="Resting blood pressure, systolic",
    short_name="SBP",
    category="vitals",
    unit="mmHg",
    direction="neither",
    valid_min=50,
    valid_max=300,
    valid_range_note="50–300 mmHg: the app-wide plausibility limit (safety.py).",
    decimals=0,
    protocol=(
        ProtocolField(
            key="position",
            label="Position",
            kind="choice",
            choices=("seated", "standing", "supine"),
            default="seated",
        ),
        ProtocolField(key="arm", label="Arm", kind="choice", choices=("left", "right")),
    ),
    cutoffs=(
        Cutoff(
            value=180,
            comparison=">",
            meaning="Hypertensive crisis range: notify the physician urgently",
            source=SRC_ACC_AHA,
            kind="safety",
        ),
        Cutoff(
            value=180,
            comparison=">",
            meaning="Relative contraindication to the 6-minute walk test",
            source=SRC_ATS_6MWT,
            kind="safety",
        ),
        Cutoff(
            value=200,
            comparison=">",
            meaning="Do not exercise; notify the physician (relative contraindication)",
            source=SRC_ACSM_BOX35,
            kind="safety",
        ),
    ),
    loinc="8480-6",
    loinc_source=SRC_VITALS_LOINC,
    loinc_note="Blood-pressure panel 85354-9.",
    notes=("ACC/AHA category needs both pressures: see bp_category().",),
)

_DBP = MeasureDefinition(
    id="bp_diastolic",
    name="Resting blood pressure, diastolic",
    short_name="DBP",
    category="vitals",
    unit="mmHg",
    direction="neither",
    valid_min=30,
    valid_max=200,
    valid_range_note="30–200 mmHg: the app-wide plausibility limit (safety.py).",
    decimals=0,
    protocol=_SBP.protocol,
    cutoffs=(
        Cutoff(
            value=120,
            comparison=">",
            meaning="Hypertensive crisis range: notify the physician urgently",
            source=SRC_ACC_AHA,
            kind="safety",
        ),
        Cutoff(
            value=100,
            comparison=">",
            meaning="Relative contraindication to the 6-minute walk test",
            source=SRC_ATS_6MWT,
            kind="safety",
        ),
        Cutoff(
            value=110,
            comparison=">",
            meaning="Do not exercise; notify the physician (relative contraindication)",
            source=SRC_ACSM_BOX35,
            kind="safety",
        ),
    ),
    loinc="8462-4",
    loinc_source=SRC_VITALS_LOINC,
    loinc_note="Blood-pressure panel 85354-9.",
    notes=("ACC/AHA category needs both pressures: see bp_category().",),
)

_BMI = MeasureDefinition(
    id="bmi",
    name="Body mass index",
    short_name="BMI",
    category="vitals",
    unit="kg/m²",
    direction="neither",
    valid_min=10,
    valid_max=80,
    valid_range_note="10–80 kg/m² is this app's plausibility limit.",
    decimals=1,
    scoring="Weight (kg) ÷ height (m)².",
    bands=(
        BandScheme(
            name="BMI category (CDC, adults 20+)",
            bands=(
                Band(label="underweight", upper=18.5, upper_inclusive=False),
                Band(label="healthy weight", upper=25, upper_inclusive=False),
                Band(label="overweight", upper=30, upper_inclusive=False),
                Band(label="obesity class 1", upper=35, upper_inclusive=False),
                Band(label="obesity class 2", upper=40, upper_inclusive=False),
                Band(label="obesity class 3", upper=None),
            ),
            source=SRC_CDC_BMI,
            age_min=20,
        ),
    ),
    loinc="39156-5",
    loinc_source=SRC_VITALS_LOINC,
    loinc_note="Weight 29463-7; height 8302-2.",
)

_WAIST = MeasureDefinition(
    id="waist_circumference",
    name="Waist circumference",
    short_name="Waist",
    category="vitals",
    unit="cm",
    direction="lower_is_better",
    valid_min=40,
    valid_max=250,
    valid_range_note="40–250 cm is this app's plausibility limit.",
    decimals=1,
    protocol=(
        ProtocolField(
            key="site",
            label="Measured at",
            kind="choice",
            choices=("umbilicus", "narrowest point", "other"),
        ),
    ),
    cutoffs=(
        Cutoff(
            value=102,
            comparison=">",
            meaning="Elevated health risk (waist above 102 cm / 40 in)",
            source=SRC_WAIST,
            kind="health_risk",
            sex="male",
        ),
        Cutoff(
            value=88,
            comparison=">",
            meaning="Elevated health risk (waist above 88 cm / 35 in)",
            source=SRC_WAIST,
            kind="health_risk",
            sex="female",
        ),
    ),
    loinc="8280-0",
    loinc_source=SRC_WAIST_LOINC,
    loinc_note="Waist circumference at umbilicus by tape measure; protocol panel 56086-2.",
)

# Physical activity as a vital sign (docs/clinical.md §4.5): days a week × minutes a day of
# moderate-to-vigorous activity = minutes a week; below 150 is below the guideline.
EVS_DAYS_MAX = 7
EVS_MINUTES_MAX = 600  # a day; this app's plausibility limit
GUIDELINE_MINUTES = 150

_EVS = MeasureDefinition(
    id="physical_activity",
    name="Physical activity (Exercise Vital Sign)",
    short_name="Activity",
    category="vitals",
    unit="min/week",
    unit_singular="min/week",
    direction="higher_is_better",
    valid_min=0,
    valid_max=EVS_DAYS_MAX * EVS_MINUTES_MAX,
    valid_range_note="0–4,200 min/week (7 days × 600 min) is this app's plausibility limit.",
    description="Usual days a week and minutes a day of moderate-to-vigorous activity (like a "
    "brisk walk), as the client reports them.",
    scoring="Days a week × minutes a day = minutes a week.",
    protocol=(
        ProtocolField(key="days_per_week", label="Days a week", kind="number"),
        ProtocolField(key="minutes_per_day", label="Minutes a day", kind="number", unit="min"),
    ),
    cutoffs=(
        Cutoff(
            value=GUIDELINE_MINUTES,
            comparison="<",
            meaning="Below the guideline of 150 minutes a week of moderate activity",
            source=SRC_PAG,
            kind="health_risk",
        ),
    ),
    loinc="82290-8",
    loinc_source=SRC_EVS_LOINC,
    loinc_note="Minutes a week; days a week 89555-7, minutes a day 68516-4.",
    notes=("Exercise Vital Sign: Coleman et al. 2012.",),
)

CATALOGUE: Mapping[str, MeasureDefinition] = MappingProxyType(
    {
        m.id: m
        for m in (
            _CHAIR_STAND,
            _FIVE_STS,
            _TUG,
            _UP_AND_GO_8FT,
            _STEP_2MIN,
            _GAIT,
            _SIX_MW,
            _FOUR_STAGE,
            _SLS,
            _BERG,
            _GRIP_MAX,
            _grip("right", "83174-3"),
            _grip("left", "83173-5"),
            _ARM_CURL,
            _BACK_SCRATCH,
            _SIT_REACH,
            _PSFS,
            _LEFS,
            _ODI,
            _NDI,
            _QUICKDASH,
            _NPRS,
            _RESTING_HR,
            _SBP,
            _DBP,
            _BMI,
            _WAIST,
            _EVS,
        )
    }
)


def get_measure(measure_id: str) -> MeasureDefinition:
    try:
        return CATALOGUE[measure_id]
    except KeyError:
        raise KeyError(f"Unknown outcome measure: {measure_id}") from None


def list_measures(category: str | None = None) -> list[MeasureDefinition]:
    return [m for m in CATALOGUE.values() if category is None or m.category == category]


# ---------------------------------------------------------------------------------------------
# Custom measures
# ---------------------------------------------------------------------------------------------

SRC_PRACTITIONER = Source(citation="Entered by the practitioner", confidence="practitioner-entered")


class CustomMeasure(Record):
    """A measure the practitioner adds; it plugs into the same interpretation."""

    store: ClassVar[str] = "custom_measures"

    name: RequiredText
    short_name: Text = ""
    unit: RequiredText
    direction: Literal["higher_is_better", "lower_is_better"]
    decimals: int = Field(default=1, ge=0, le=3)
    valid_min: float | None = None
    valid_max: float | None = None
    mcid: float | None = None
    mcid_source: Text = ""
    mdc: float | None = None
    mdc_source: Text = ""
    population: Text = ""  # who the MCID/MDC was measured in, if known
    notes: LongText = ""

    @field_validator("mcid", "mdc")
    @classmethod
    def _positive(cls, value: float | None) -> float | None:
        if value is not None and not (math.isfinite(value) and value > 0):
            raise ValueError("A change threshold must be a number above 0")
        return value

    @field_validator("valid_min", "valid_max")
    @classmethod
    def _finite(cls, value: float | None) -> float | None:
        if value is not None and not math.isfinite(value):
            raise ValueError("Enter a number")
        return value

    @model_validator(mode="after")
    def _range(self) -> CustomMeasure:
        if (
            self.valid_min is not None
            and self.valid_max is not None
            and self.valid_min >= self.valid_max
        ):
            raise ValueError("The lowest valid value must be below the highest valid value")
        return self

    @property
    def measure_id(self) -> str:
        return f"custom:{self.id}"

    def to_definition(self) -> MeasureDefinition:
        def threshold(value: float | None, source: str, population: str) -> tuple:
            if value is None:
                return ()
            src = Source(
                citation=source or "Entered by the practitioner",
                population=population,
                confidence="practitioner-entered",
            )
            return (
                ChangeThreshold(
                    value=value, source=src, population=population or "Not stated (custom)"
                ),
            )

        return MeasureDefinition(
            id=self.measure_id,
            name=self.name,
            short_name=self.short_name or self.name,
            category="other",
            unit=self.unit,
            direction=self.direction,
            valid_min=self.valid_min,
            valid_max=self.valid_max,
            valid_range_note="Entered by the practitioner.",
            decimals=self.decimals,
            mdc=threshold(self.mdc, self.mdc_source, self.population),
            mcid=threshold(self.mcid, self.mcid_source, self.population),
            notes=("Custom measure: no published norm or cut-off on file.",),
            custom=True,
        )


# ---------------------------------------------------------------------------------------------
# Values and scoring
# ---------------------------------------------------------------------------------------------


class NotComputable(ValueError):
    """A score cannot be computed from what was entered (e.g. too many missing items)."""


@dataclass(frozen=True, slots=True)
class ScoreResult:
    measure_id: str
    value: float
    method: str
    items_answered: int = 0
    items_missing: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    details: dict[str, Any] = field(default_factory=dict)


def format_number(value: float, decimals: int) -> str:
    text = f"{value:.{decimals}f}"
    if text.startswith("-") and float(text) == 0:
        text = text[1:]
    return text


def format_quantity(
    measure: MeasureDefinition, value: float, *, change: bool = False, decimals: int | None = None
) -> str:
    """'12 stands', '1 stand', '5.6 s', '1.34 m/s', '24%' — for sentences."""
    num = format_number(value, measure.decimals if decimals is None else decimals)
    if measure.is_questionnaire and measure.decimals == 1 and num.endswith(".0"):
        num = num[:-2]
    unit = measure.sentence_unit if change else measure.unit
    if unit == "%":
        return f"{num}%"
    if unit == "/10":
        return f"{num}/10"
    if abs(float(num)) == 1:
        if unit == measure.unit and measure.unit_singular:
            unit = measure.unit_singular
        elif unit == "points":
            unit = "point"
    return f"{num} {unit}"


def range_text(measure: MeasureDefinition) -> str:
    lo, hi = measure.valid_min, measure.valid_max
    u = "" if measure.unit in ("%", "/10") else f" {measure.unit}"
    if lo is not None and hi is not None:
        if not measure.min_inclusive:
            return f"more than {lo:g} and at most {hi:g}{u}"
        return f"between {lo:g} and {hi:g}{u}"
    if lo is not None:
        return f"at least {lo:g}{u}"
    if hi is not None:
        return f"at most {hi:g}{u}"
    return "a number"


def check_value(measure: MeasureDefinition, value: Any) -> float:
    """The value as a float, or ValueError in plain words (used by outcomes.validate_value)."""
    if isinstance(value, bool) or value is None:
        raise ValueError(f"Enter a number for {measure.name}")
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise ValueError(f"Enter a number for {measure.name}") from None
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"Enter a number for {measure.name}") from None
    if not math.isfinite(x):
        raise ValueError(f"Enter a number for {measure.name}")
    lo, hi = measure.valid_min, measure.valid_max
    if (lo is not None and (x < lo or (x == lo and not measure.min_inclusive))) or (
        hi is not None and x > hi
    ):
        raise ValueError(f"{measure.name} must be {range_text(measure)}")
    if measure.decimals == 0 and x != int(x):
        unit = measure.unit if measure.unit not in ("%", "/10", "stage") else ""
        raise ValueError(f"{measure.name}: enter a whole number{' of ' + unit if unit else ''}")
    return x


def _as_int_item(measure: MeasureDefinition, item: ItemDef, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"{measure.short_name} {item.key}: enter a whole number")
    try:
        x = float(value)
    except ValueError:
        raise ValueError(f"{measure.short_name} {item.key}: enter a whole number") from None
    if not math.isfinite(x) or x != int(x):
        raise ValueError(f"{measure.short_name} {item.key}: enter a whole number")
    if not item.min <= x <= item.max:
        raise ValueError(
            f"{measure.short_name} {item.key} must be between {item.min} and {item.max}"
        )
    return int(x)


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def collect_items(
    measure: MeasureDefinition, raw: Mapping[str, Any] | Sequence[Any]
) -> tuple[dict[str, int], list[str]]:
    """Item scores keyed by label, and the labels left blank. Unknown labels are refused."""
    keys = [i.key for i in measure.items]
    by_key = {i.key: i for i in measure.items}
    if isinstance(raw, Mapping):
        unknown = [k for k in raw if k not in by_key]
        if unknown:
            raise ValueError(f"{measure.short_name}: unknown item {', '.join(map(str, unknown))}")
        values = {k: raw.get(k) for k in keys}
    elif isinstance(raw, Sequence) and not isinstance(raw, str):
        if len(raw) > len(keys):
            raise ValueError(f"{measure.short_name} has {len(keys)} items, {len(raw)} were given")
        values = {k: (raw[i] if i < len(raw) else None) for i, k in enumerate(keys)}
    else:
        raise ValueError(f"{measure.short_name}: item scores are needed")
    answered: dict[str, int] = {}
    missing: list[str] = []
    for k in keys:
        v = values[k]
        if _is_blank(v):
            missing.append(k)
        else:
            answered[k] = _as_int_item(measure, by_key[k], v)
    return answered, missing


def _result(measure: MeasureDefinition, value: float, method: str, **kw: Any) -> ScoreResult:
    return ScoreResult(measure_id=measure.id, value=value, method=method, **kw)


def _score_complete_sum(measure: MeasureDefinition, raw: Any) -> ScoreResult:
    answered, missing = collect_items(measure, raw)
    if missing:
        raise NotComputable(
            f"{measure.name} cannot be scored: {len(missing)} item(s) missing "
            f"({', '.join(missing)}). All {len(measure.items)} items are needed (no published "
            "rule for missing items is on file)."
        )
    total = sum(answered.values())
    return _result(
        measure,
        float(total),
        f"Sum of {len(answered)} items",
        items_answered=len(answered),
    )


def score_berg(items: Mapping[str, Any] | Sequence[Any]) -> ScoreResult:
    """Berg Balance Scale: sum of 14 items 0–4; every item needed."""
    return _score_complete_sum(_BERG, items)


def score_lefs(items: Mapping[str, Any] | Sequence[Any]) -> ScoreResult:
    """LEFS: sum of 20 items 0–4 (0–80); every item needed."""
    return _score_complete_sum(_LEFS, items)


def score_oswestry(items: Mapping[str, Any] | Sequence[Any]) -> ScoreResult:
    """ODI %: sum ÷ (5 × sections answered) × 100."""
    answered, missing = collect_items(_ODI, items)
    if not answered:
        raise NotComputable("Oswestry Disability Index cannot be scored: no section answered")
    total = sum(answered.values())
    pct = round(total / (5 * len(answered)) * 100, 1)
    warnings: tuple[str, ...] = ()
    if missing:
        warnings = (
            f"Scored from {len(answered)} of 10 sections (missing: {', '.join(missing)}); the "
            "denominator drops 5 for each missing section.",
        )
    return _result(
        _ODI,
        pct,
        f"Sum {total} ÷ (5 × {len(answered)} sections) × 100",
        items_answered=len(answered),
        items_missing=tuple(missing),
        warnings=warnings,
        details={"raw_sum": total},
    )


def score_ndi(items: Mapping[str, Any] | Sequence[Any]) -> ScoreResult:
    """NDI raw 0–50; one missing item takes the mean of the others; more is not scored."""
    answered, missing = collect_items(_NDI, items)
    if len(missing) > 1:
        raise NotComputable(
            f"Neck Disability Index cannot be scored: {len(missing)} items missing "
            f"({', '.join(missing)}). The rule on file covers one missing item only."
        )
    total = float(sum(answered.values()))
    warnings: tuple[str, ...] = ()
    method = f"Sum of {len(answered)} items"
    if missing:
        mean = total / len(answered)
        total += mean
        method += " + the mean of the answered items for the missing item"
        warnings = (f"Item {missing[0]} was missing: the mean of the other 9 was added.",)
    raw = round(total, 1)
    return _result(
        _NDI,
        raw,
        method,
        items_answered=len(answered),
        items_missing=tuple(missing),
        warnings=warnings,
        details={"percent": round(raw * 2, 1)},
    )


def score_quickdash(items: Mapping[str, Any] | Sequence[Any]) -> ScoreResult:
    """QuickDASH 0–100: ((sum ÷ n) − 1) × 25; not computable if more than 1 item missing."""
    answered, missing = collect_items(_QUICKDASH, items)
    if len(missing) > 1:
        raise NotComputable(
            f"QuickDASH cannot be scored: {len(missing)} items missing ({', '.join(missing)}). "
            "It is not computable if more than 1 item is missing."
        )
    n = len(answered)
    total = sum(answered.values())
    value = round((total / n - 1) * 25, 1)
    return _result(
        _QUICKDASH,
        value,
        f"((sum {total} ÷ {n}) − 1) × 25",
        items_answered=n,
        items_missing=tuple(missing),
        warnings=(f"Scored from 10 of 11 items (missing: {missing[0]}).",) if missing else (),
    )


def score_psfs(activities: Mapping[str, Any] | Sequence[Any]) -> ScoreResult:
    """PSFS: mean of 3–5 activity ratings (0–10).

    Accepts ``{"psfs_01": 4, …}``, a list of ratings, or a list of
    ``{"activity": "<client's words>", "score": 4}``.
    """
    names: list[str] = []
    if isinstance(activities, Sequence) and not isinstance(activities, str):
        ratings: list[Any] = []
        for a in activities:
            if isinstance(a, Mapping):
                names.append(str(a.get("activity", "")).strip())
                ratings.append(a.get("score"))
            else:
                ratings.append(a)
        answered, _ = collect_items(_PSFS, ratings)
    else:
        answered, _ = collect_items(_PSFS, activities)
    n = len(answered)
    if not 3 <= n <= 5:
        raise NotComputable(f"PSFS needs 3 to 5 rated activities ({n} rated)")
    value = round(sum(answered.values()) / n, 1)
    details: dict[str, Any] = {"ratings": dict(answered)}
    if names:
        details["activities"] = tuple(names)
    return _result(_PSFS, value, f"Mean of {n} activity ratings", items_answered=n, details=details)


def _helper_input(
    key: str, name: str, unit: str, lo: float, hi: float, lo_in: bool = True
) -> MeasureDefinition:
    """Definition used only to validate an input of a computed score (height, walk time…)."""
    return MeasureDefinition(
        id=key,
        name=name,
        short_name=name,
        category="other",
        unit=unit,
        direction="neither",
        valid_min=lo,
        min_inclusive=lo_in,
        valid_max=hi,
        decimals=2,
    )


_STAGE_TIME = _helper_input("_stage", "Stage time", "s", 0, 600)
_HEIGHT = _helper_input("_height", "Height", "cm", 50, 250)
_WEIGHT = _helper_input("_weight", "Weight", "kg", 20, 350)
_DISTANCE = _helper_input("_distance", "Timed distance", "m", 1, 100)
_WALK_TIME = _helper_input("_walk_time", "Walk time", "s", 0, 600, lo_in=False)
_ACTIVE_DAYS = _helper_input("_active_days", "Days a week", "days", 0, EVS_DAYS_MAX)
_ACTIVE_MINUTES = _helper_input("_active_minutes", "Minutes a day", "min", 0, EVS_MINUTES_MAX)


def score_four_stage_balance(stage_seconds: Sequence[float | None]) -> ScoreResult:
    """Highest consecutive stage (1–4) held for at least 10 s; 0 if stage 1 was not held."""
    if len(stage_seconds) > 4:
        raise ValueError("The 4-stage balance test has 4 stages")
    stage = 0
    warnings: list[str] = []
    for i, secs in enumerate(stage_seconds, start=1):
        if _is_blank(secs):
            break
        s = check_value(_STAGE_TIME, secs)
        if s >= 10:
            stage = i
        else:
            rest = [x for x in stage_seconds[i:] if not _is_blank(x)]
            if rest:
                warnings.append(f"Stage {i} was not held for 10 s: later stages are not counted.")
            break
    return _result(
        _FOUR_STAGE,
        float(stage),
        "Highest consecutive stage held for 10 s",
        warnings=tuple(warnings),
        details={"seconds": tuple(stage_seconds)},
    )


def score_chair_stand(stands: Any, arms_used: bool = False) -> ScoreResult:
    """30-second chair stand; 0 if the arms were used (CDC STEADI)."""
    if arms_used:
        return _result(_CHAIR_STAND, 0.0, "Arms used: recorded as 0 (CDC STEADI)")
    return _result(_CHAIR_STAND, check_value(_CHAIR_STAND, stands), "Full stands in 30 s")


def score_bmi(
    height_cm: float | None = None,
    weight_kg: float | None = None,
    *,
    height_in: float | None = None,
    weight_lb: float | None = None,
) -> ScoreResult:
    """BMI = kg ÷ m², from metric or US units (1 in = 2.54 cm, 1 lb = 0.45359237 kg)."""
    if height_cm is None and height_in is not None:
        height_cm = float(height_in) * 2.54
    if weight_kg is None and weight_lb is not None:
        weight_kg = float(weight_lb) * 0.45359237
    if height_cm is None or weight_kg is None:
        raise NotComputable("BMI needs both height and weight")
    h = check_value(_HEIGHT, height_cm) / 100
    w = check_value(_WEIGHT, weight_kg)
    value = round(w / (h * h), 1)
    check_value(_BMI, value)
    return _result(
        _BMI,
        value,
        "Weight (kg) ÷ height (m)²",
        details={"height_cm": round(h * 100, 1), "weight_kg": round(w, 1)},
    )


def score_physical_activity(days_per_week: Any, minutes_per_day: Any) -> ScoreResult:
    """The Exercise Vital Sign: days a week × minutes a day of moderate-to-vigorous activity
    (docs/clinical.md §4.5).

    >>> score_physical_activity(3, 30).value
    90.0
    """
    days = check_value(_ACTIVE_DAYS, days_per_week)
    if not days.is_integer():
        raise ValueError("Days a week: enter a whole number from 0 to 7")
    minutes = check_value(_ACTIVE_MINUTES, minutes_per_day)
    if not minutes.is_integer():
        raise ValueError("Minutes a day: enter whole minutes")
    value = days * minutes
    check_value(_EVS, value)
    return _result(
        _EVS,
        value,
        f"{days:g} days × {minutes:g} min",
        details={"days_per_week": days, "minutes_per_day": minutes},
    )


def score_gait_speed(distance_m: Any, time_s: Any) -> ScoreResult:
    """Gait speed in m/s from the timed distance and time."""
    d = check_value(_DISTANCE, distance_m)
    t = check_value(_WALK_TIME, time_s)
    value = round(d / t, 2)
    check_value(_GAIT, value)
    return _result(_GAIT, value, f"{d:g} m ÷ {t:g} s", details={"distance_m": d, "time_s": t})


# --- Values computed from other inputs on the assessment form -----------------------------
# Gait speed = distance ÷ time over the recorded timed distance (docs/clinical.md §2.5; LOINC
# 83172-7 "4-m walk computed gait speed"); BMI = kg ÷ m² (CDC adult BMI, docs/clinical.md §4.3).


@dataclass(frozen=True, slots=True)
class HelperInput:
    """An input a measure's value can be computed from when the value itself is left blank."""

    key: str
    label: str
    hint: str = ""
    short: str = ""  # the empty value field says "from <short>" ("from time", "from ht/wt")


HELPER_INPUTS: Mapping[str, tuple[HelperInput, ...]] = MappingProxyType(
    {
        "gait_speed": (
            HelperInput(
                "time_s", "Walk time (s)", "Speed = distance ÷ time, if left blank", "time"
            ),
        ),
        "bmi": (
            HelperInput(
                "height_cm", "Height (cm)", "BMI from height and weight, if left blank", "ht"
            ),
            HelperInput("weight_kg", "Weight (kg)", short="wt"),
        ),
    }
)


def value_from_helpers(
    measure_id: str, protocol: Mapping[str, Any], helpers: Mapping[str, Any]
) -> float | None:
    """The value of ``measure_id`` computed from its helper inputs (``HELPER_INPUTS``), or
    None when the measure has none. Raises NotComputable / ValueError with a plain message.

    >>> value_from_helpers("gait_speed", {"distance_m": "4 m"}, {"time_s": "5"})
    0.8
    """
    if measure_id == "gait_speed":
        match = re.match(r"(\d+(?:\.\d+)?)", str(protocol.get("distance_m", "")))
        if not match:
            raise NotComputable("Choose the timed distance (4 m, 6 m or 10 m) or enter the speed")
        return score_gait_speed(float(match[1]), helpers.get("time_s", "")).value
    if measure_id == "bmi":
        height, weight = helpers.get("height_cm"), helpers.get("weight_kg")
        return score_bmi(height or None, weight or None).value
    return None


def _hand_value(trials: Sequence[Any], method: str) -> float | None:
    vals = [check_value(_GRIP_MAX, t) for t in trials if not _is_blank(t)]
    if not vals:
        return None
    return max(vals) if method == "best" else round(sum(vals) / len(vals), 1)


def score_grip(
    left: Sequence[Any] = (), right: Sequence[Any] = (), method: str = "best"
) -> dict[str, ScoreResult]:
    """Per-hand grip (best or mean of trials) and the stronger hand ('grip_strength')."""
    if method not in ("best", "mean"):
        raise ValueError("Choose best or mean")
    out: dict[str, ScoreResult] = {}
    for hand, trials in (("left", left), ("right", right)):
        v = _hand_value(trials, method)
        if v is not None:
            out[f"grip_{hand}"] = ScoreResult(
                measure_id=f"grip_{hand}",
                value=v,
                method=f"{method.capitalize()} of {len([t for t in trials if not _is_blank(t)])} "
                "trials",
            )
    if not out:
        raise NotComputable("Grip strength needs at least one trial")
    best = max(out.values(), key=lambda r: r.value)
    out["grip_strength"] = ScoreResult(
        measure_id="grip_strength",
        value=best.value,
        method="Higher of the two hands" if len(out) == 2 else "Only one hand tested",
        warnings=() if len(out) == 2 else ("Only one hand was tested.",),
        details={"hand": best.measure_id.removeprefix("grip_")},
    )
    return out


_ITEM_SCORERS = {
    "berg_balance": score_berg,
    "lefs": score_lefs,
    "oswestry": score_oswestry,
    "neck_disability_index": score_ndi,
    "quickdash": score_quickdash,
    "psfs": score_psfs,
}


def score(measure_id: str, raw: Any) -> ScoreResult:
    """Score any catalogue measure from what was entered.

    Questionnaires take item scores; ``four_stage_balance`` takes stage seconds; ``bmi`` takes
    ``{"height_cm", "weight_kg"}`` (or ``height_in`` / ``weight_lb``); ``gait_speed`` takes a
    number or ``{"distance_m", "time_s"}``; grip measures take a number or
    ``{"left": [...], "right": [...], "method": "best"}``; ``chair_stand_30s`` takes a number or
    ``{"stands": n, "arms_used": bool}``. Everything else takes a number.
    """
    measure = get_measure(measure_id)
    if measure_id in _ITEM_SCORERS:
        return _ITEM_SCORERS[measure_id](raw)
    if isinstance(raw, Mapping):
        if measure_id == "bmi":
            return score_bmi(
                raw.get("height_cm"),
                raw.get("weight_kg"),
                height_in=raw.get("height_in"),
                weight_lb=raw.get("weight_lb"),
            )
        if measure_id == "gait_speed":
            return score_gait_speed(raw.get("distance_m"), raw.get("time_s"))
        if measure_id == "physical_activity":
            return score_physical_activity(raw.get("days_per_week"), raw.get("minutes_per_day"))
        if measure_id == "chair_stand_30s":
            return score_chair_stand(raw.get("stands"), bool(raw.get("arms_used", False)))
        if measure_id.startswith("grip_"):
            scores = score_grip(
                raw.get("left", ()), raw.get("right", ()), raw.get("method", "best")
            )
            if measure_id not in scores:
                raise NotComputable(f"No trials entered for the {measure_id[5:]} hand")
            return scores[measure_id]
        raise ValueError(f"{measure.name}: enter a single number")
    if (
        measure_id == "four_stage_balance"
        and isinstance(raw, Sequence)
        and not isinstance(raw, str)
    ):
        return score_four_stage_balance(raw)
    return _result(measure, check_value(measure, raw), "Value as entered")


# ---------------------------------------------------------------------------------------------
# Blood pressure category (needs both pressures)
# ---------------------------------------------------------------------------------------------

BP_CATEGORIES = ("normal", "elevated", "hypertension stage 1", "hypertension stage 2",
                 "hypertensive crisis")  # fmt: skip


@dataclass(frozen=True, slots=True)
class BPCategory:
    label: str
    rank: int  # 0 normal … 4 crisis
    systolic_label: str
    diastolic_label: str
    source: Source
    note: str


def _sbp_rank(sbp: float) -> int:
    if sbp > 180:
        return 4
    if sbp >= 140:
        return 3
    if sbp >= 130:
        return 2
    if sbp >= 120:
        return 1
    return 0


def _dbp_rank(dbp: float) -> int:
    if dbp > 120:
        return 4
    if dbp >= 90:
        return 3
    if dbp >= 80:
        return 2
    return 0


def bp_category(systolic: Any, diastolic: Any) -> BPCategory:
    """2017 ACC/AHA category of one reading; if the pressures fall in different categories the
    higher one is used. Normal <120 and <80; elevated 120–129 and <80; stage 1 130–139 or
    80–89; stage 2 ≥140 or ≥90; crisis >180 and/or >120."""
    sbp = check_value(_SBP, systolic)
    dbp = check_value(_DBP, diastolic)
    if dbp >= sbp:
        raise ValueError("Diastolic pressure must be lower than systolic pressure")
    s, d = _sbp_rank(sbp), _dbp_rank(dbp)
    return BPCategory(
        label=BP_CATEGORIES[max(s, d)],
        rank=max(s, d),
        systolic_label=BP_CATEGORIES[s],
        diastolic_label=BP_CATEGORIES[d],
        source=SRC_ACC_AHA,
        note="One reading describes this visit only: a diagnosis needs the average of 2 or "
        "more readings on 2 or more occasions.",
    )
