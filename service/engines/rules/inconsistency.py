"""``report.inconsistency``: findings and impression that contradict each other (DESIGN §4).

Signals: a finding affirmed in one section and only negated in the other ("small right
effusion" / "no effusion", "no consolidation" / "pneumonia"); a normal statement against the
finding in the other section ("heart size is normal" / "cardiomegaly", "the lungs are clear" /
"right lower lobe pneumonia"); and an impression of "no acute abnormality" or "normal chest" over an
acute finding affirmed in the findings; and the same finding graded two or more steps apart
("trace" / "moderate", "small" / "large", "mild" / "severe"). Old, chronic, stable or uncertain
findings never count, nor does a negation qualified as "no new" or "no acute" against an old
finding; "no large effusion" contradicts only a moderate or large one.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from service.engines.base import Evidence, Finding
from service.engines.rules._clinical import (
    ACUTE_FOR_NORMAL,
    CLEAR_LUNGS,
    NORMAL_IMPRESSION,
    Mention,
    mentions,
)
from service.engines.rules._findings import finding, text_evidence
from service.engines.rules._report import ReportView
from service.engines.rules.negation import Polarity
from service.taxonomy import Severity

CODE = "report.inconsistency"
_QUALIFIED = re.compile(
    r"\b(?:new|acute|additional|other|further|significant|large|displaced|residual|"
    r"definite|overt|frank|gross|recurrent|increas\w*|worsen\w*)\b",
    re.IGNORECASE,
)
# "no large effusion" still denies a moderate or large one
_SIZE_QUALIFIERS = frozenset({"large", "significant", "definite", "overt", "frank", "gross"})
# findings that stand for one another: "no consolidation" denies "pneumonia"
_GROUPS = {
    "consolidation": "airspace disease",
    "pneumonia": "airspace disease",
    "infiltrate": "airspace disease",
}
_NORMAL_STATEMENTS = {
    "cardiomegaly": re.compile(
        r"\b(?:heart size (?:is )?(?:normal|within normal limits)|normal heart size|"
        r"heart is normal in size|(?:heart|cardiac silhouette|cardiac size) (?:is |are )?"
        r"(?:normal|within normal limits|not enlarged)|normal (?:cardiac|cardiomediastinal) "
        r"silhouette|normal-sized heart)\b",
        re.IGNORECASE,
    ),
    "airspace disease": CLEAR_LUNGS,
}


def _sides_compatible(a: Mention, b: Mention) -> bool:
    return a.side is None or b.side is None or a.side == b.side or "bilateral" in (a.side, b.side)


def _evidence(view: ReportView, *spans: Mention) -> list[Evidence]:
    """The sentences the mentions are in."""
    return [text_evidence(m.section, view.text, m.sentence_start, m.sentence_end) for m in spans]


def _contradiction(affirmed: list[Mention], other: list[Mention]) -> Mention | None:
    """A negation in ``other`` of what ``affirmed`` states, when ``other`` never affirms it."""
    if any(m.polarity is not Polarity.NEGATED for m in other):
        return None
    for negated in other:
        for stated in affirmed:
            if _sides_compatible(stated, negated):
                return negated
    return None


def _subject(section: str, verb: str = "reports") -> str:
    """'The findings report' / 'The impression reports'."""
    if section in ("findings", "findings_impression"):
        plural = {"reports": "report", "says": "say", "denies": "deny"}[verb]
        return f"The findings {plural}"
    return f"The {section.replace('_', ' ')} {verb}"


def _group(name: str) -> str:
    return _GROUPS.get(name, name)


def _denies(view: ReportView, negated: Mention, affirmed: list[Mention]) -> bool:
    """Whether a negation denies what is affirmed: a plain "no effusion" does; a qualified one
    ("no large effusion", "no new consolidation") only a finding graded moderate or more."""
    qualifier = _QUALIFIED.search(view.text[negated.sentence_start : negated.end])
    if qualifier is None:
        return not _kind_denied(view, negated)
    if qualifier.group(0).lower() not in _SIZE_QUALIFIERS:
        return False
    return any(g >= 2 for m in affirmed for g in _grades(view, m))


# a finding named as the probable explanation ("opacity, most likely atelectasis"): hedged, but
# stated; "versus", "may" or "possible" leave it open
_PROBABLE = re.compile(
    r"\b(?:(?<!un)likely|probabl[ey]|consistent with|compatible with|in keeping with|"
    r"represent(?:s|ing)?|typical of|diagnostic of)\b",
    re.IGNORECASE,
)
_OPEN = re.compile(
    r"\b(?:versus|vs|or|may|might|could|possibl[ey]|question\w*|unlikely|less likely|"
    r"differential|cannot|not)\b|/",
    re.IGNORECASE,
)


def _probable(view: ReportView, mention: Mention) -> bool:
    """An uncertain mention that the sentence names as the likely explanation."""
    if mention.polarity is not Polarity.UNCERTAIN:
        return False
    clause = view.text[max(mention.sentence_start, mention.start - 60) : mention.end]
    clause = re.split(r"[;:]", clause)[-1]
    return _PROBABLE.search(clause) is not None and _OPEN.search(clause) is None


def _held(view: ReportView, mention: Mention) -> bool:
    """A finding the findings hold even when old or hedged: affirmed (stable, chronic or
    known ones too, except findings whose denial is usually about another place or time), or
    named as the probable explanation of what is seen."""
    if mention.polarity is Polarity.AFFIRMED:
        return not mention.old or mention.concept.name not in _PLACED
    return _probable(view, mention) and not mention.old


def _focal_only(view: ReportView, negated: Mention, stated: Mention) -> bool:
    """ "No focal airspace disease" beside a diffuse or scattered process that no one lobe
    holds: the denial is of something else."""
    return (
        _FOCAL.search(_sentence(view, negated)) is not None
        and _DIFFUSE.search(_sentence(view, stated)) is not None
        and _lobe(view, stated) is None
    )


def _plain_denial_in_impression(
    view: ReportView, found: list[Mention], said: list[Mention]
) -> tuple[Mention, Mention] | None:
    """An impression that plainly denies ("No atelectasis.", "without cardiomegaly") a finding
    the findings hold, stable or probable, when the impression never names it otherwise."""
    if not said or any(m.polarity is not Polarity.NEGATED for m in said):
        return None
    held = [m for m in found if _held(view, m)]
    for negated in said:
        if not _plain_denial(view, negated):
            continue
        for stated in held:
            if _sides_compatible(stated, negated) and not _focal_only(view, negated, stated):
                return stated, negated
    return None


# words that deny only one kind of a finding ("no cavitary nodule", "no loculated effusion")
_KIND = re.compile(
    r"\b(?:cavit\w*|(?:non-?)?calcifi\w*|spiculated|suspicious|dominant|loculated|lobar|"
    r"segmental|confluent|solid|ground[- ]glass|mass-?like|cystic|multiple|innumerable)\b",
    re.IGNORECASE,
)


def _kind_denied(view: ReportView, negated: Mention) -> bool:
    """A denial of one kind of the finding ("no cavitary nodule", "no calcified granuloma"):
    a describing word of its own stands before the finding in its list item."""
    before = view.text[max(negated.sentence_start, negated.start - 60) : negated.start]
    triggers = list(_DENIAL.finditer(before))
    if triggers:
        before = before[triggers[-1].end() :]
    item = re.split(r"[,;:]|\b(?:or|and|nor)\b", before)[-1]
    return _KIND.search(item) is not None


def check_contradictions(view: ReportView) -> list[Finding]:
    """A finding affirmed in one section and negated in the other; or held in the findings
    (stable, or named as the likely explanation) and plainly denied by the impression."""
    in_findings, in_impression = mentions(view)
    results: list[Finding] = []
    for concept in sorted({_group(m.concept.name) for m in in_findings + in_impression}):
        found = [m for m in in_findings if _group(m.concept.name) == concept]
        said = [m for m in in_impression if _group(m.concept.name) == concept]
        for affirmed_side, other_side in ((found, said), (said, found)):
            affirmed = [m for m in affirmed_side if m.polarity is Polarity.AFFIRMED and not m.old]
            if not affirmed or not other_side:
                continue
            negated = _contradiction(affirmed, other_side)
            if negated is None or not _denies(view, negated, affirmed):
                continue
            message = (
                f"{_subject(affirmed[0].section)} {affirmed[0].concept.name} but "
                f"{_subject(negated.section, 'denies').lower()} it; reconcile the two sections."
            )
            evidence = _evidence(view, affirmed[0], negated)
            results.append(finding(CODE, Severity.MAJOR, message, evidence, 0.8))
            break
        else:
            pair = _plain_denial_in_impression(view, found, said)
            if pair is None:
                continue
            stated, negated = pair
            message = (
                f"The findings report {stated.concept.name} but the impression says "
                f"'{_sentence(view, negated).strip()[:80]}'; reconcile the two sections."
            )
            results.append(
                finding(CODE, Severity.MAJOR, message, _evidence(view, stated, negated), 0.75)
            )
    return results[:3]


def check_normal_statement(view: ReportView) -> list[Finding]:
    """ "Heart size is normal" in one section and cardiomegaly in the other; "the lungs are
    clear" in the findings and pneumonia or consolidation in the impression."""
    in_findings, in_impression = mentions(view)
    sections = {
        "findings": view.named({"findings"}),
        "impression": view.named({"impression"}),
    }
    for concept, regex in _NORMAL_STATEMENTS.items():
        for stated_in, normal_in in (("impression", "findings"), ("findings", "impression")):
            stated = [
                m
                for m in (in_impression if stated_in == "impression" else in_findings)
                if _group(m.concept.name) == concept
                and m.polarity is Polarity.AFFIRMED
                and not (m.old and stated_in == "findings")  # "clear lungs" may mean no new
            ]
            other = in_findings if normal_in == "findings" else in_impression
            if not stated or any(
                _group(m.concept.name) == concept and m.polarity is Polarity.AFFIRMED for m in other
            ):
                continue
            for span in sections[normal_in]:
                normal = regex.search(view.text, span.start, span.end)
                if normal is None:
                    continue
                message = (
                    f"{_subject(normal_in, 'says')} '{normal.group(0)}' but "
                    f"{_subject(stated_in).lower()} {stated[0].concept.name}; reconcile the two "
                    "sections."
                )
                evidence = [
                    *_evidence(view, stated[0]),
                    text_evidence(span.name, view.text, normal.start(), normal.end()),
                ]
                return [finding(CODE, Severity.MAJOR, message, evidence, 0.75)]
    return []


def check_normal_impression(view: ReportView) -> list[Finding]:
    """An impression of "no acute abnormality" over an acute finding in the findings."""
    in_findings, in_impression = mentions(view)
    impression_text = [(s.start, s.end, s.name) for s in view.sections if s.name == "impression"]
    for start, end, name in impression_text:
        normal = NORMAL_IMPRESSION.search(view.text, start, end)
        if normal is None:
            continue
        if any(m.polarity is Polarity.AFFIRMED for m in in_impression):
            return []  # the impression names a finding itself: "no acute" qualifies the rest
        for stated in in_findings:
            if (
                stated.concept.name in ACUTE_FOR_NORMAL
                and stated.polarity is Polarity.AFFIRMED
                and not stated.old
            ):
                message = (
                    f"The impression says '{normal.group(0)}' but the findings report "
                    f"{stated.concept.name}; correct the impression."
                )
                evidence = [
                    *_evidence(view, stated),
                    text_evidence(name, view.text, normal.start(), normal.end()),
                ]
                return [finding(CODE, Severity.CRITICAL, message, evidence, 0.85)]
    return []


# how much of a finding: trace < small/mild < moderate < large/severe
_GRADES = {
    "trace": 0,
    "tiny": 0,
    "minimal": 0,
    "small": 1,
    "mild": 1,
    "moderate": 2,
    "large": 3,
    "severe": 3,
    "marked": 3,
    "massive": 3,
    "extensive": 3,
    "substantial": 3,
    "dense": 3,
}
_GRADE = re.compile(r"\b(" + "|".join(_GRADES) + r")(?:ly)?\b", re.IGNORECASE)
# a sentence that compares with an earlier study grades the change, not the finding
_CHANGE = re.compile(
    r"\b(?:previous\w*|prior|was|were|from|decreas\w*|increas\w*|compared|smaller|larger|"
    r"improv\w*|worsen\w*|progress\w*|interval)\b",
    re.IGNORECASE,
)


def _grades(view: ReportView, mention: Mention) -> set[int]:
    """The grades given to the finding: words in the few words before it ("small right pleural
    effusion"), or straight after a verb ("the effusion is small")."""
    around = view.text[
        max(mention.sentence_start, mention.start - 120) : min(
            mention.sentence_end, mention.end + 120
        )
    ]
    if _CHANGE.search(around):
        return set()
    before = view.text[max(mention.sentence_start, mention.start - 40) : mention.start]
    before = re.split(r"[,;:]|\b(?:and|with|or|but)\b", before)[-1]
    after = view.text[mention.end : min(mention.sentence_end, mention.end + 25)]
    after_grade = re.match(r"\s+(?:is|are|appears?|remains?)\s+(\w+)", after)
    words = [m.group(1).lower() for m in _GRADE.finditer(before)]
    if after_grade and after_grade.group(1).lower() in _GRADES:
        words.append(after_grade.group(1).lower())
    return {_GRADES[w] for w in words}


def check_severity(view: ReportView) -> list[Finding]:
    """The same finding graded two or more steps apart in the two sections ("small left pleural
    effusion" / "large left pleural effusion", "trace" / "moderate", "mild" / "severe")."""
    in_findings, in_impression = mentions(view)
    for said in in_impression:
        if said.polarity is not Polarity.AFFIRMED:
            continue
        said_grades = _grades(view, said)
        if not said_grades:
            continue
        found = [
            m
            for m in in_findings
            if m.concept.name == said.concept.name
            and m.polarity is Polarity.AFFIRMED
            and _sides_compatible(m, said)
        ]
        graded = [(m, g) for m in found for g in _grades(view, m)]
        if not graded or any(abs(g - s) < 2 for _, g in graded for s in said_grades):
            continue
        stated = graded[0][0]
        message = (
            f"The findings and the impression grade the {said.concept.name} differently "
            f"('{view.text[stated.sentence_start : stated.end].strip()[-60:]}' / "
            f"'{view.text[said.sentence_start : said.end].strip()[-60:]}'); reconcile the two "
            "sections."
        )
        return [finding(CODE, Severity.MAJOR, message, _evidence(view, stated, said), 0.75)]
    return []


# the lobe (or lingula) a finding is placed in: the named lung segments of the Fleischner
# glossary, read only when a sentence names one lobe
_LOBE = re.compile(r"\b(upper|middle|lower) lobes?\b|\b(lingula)r?\b", re.IGNORECASE)


def _lobe(view: ReportView, mention: Mention) -> str | None:
    """The one lobe a mention's sentence places it in; None when it names none or several."""
    sentence = view.text[mention.sentence_start : mention.sentence_end]
    lobes = {(m.group(1) or m.group(2)).lower() for m in _LOBE.finditer(sentence)}
    if len(lobes) != 1 or re.search(
        r"\b(?:and|or|to|through|into)\s+(?:the\s+)?"
        r"(?:upper|middle|lower)\b",
        sentence,
        re.IGNORECASE,
    ):
        return None
    return lobes.pop()


def check_location(view: ReportView) -> list[Finding]:
    """The same finding, on the same side, in one lobe in the findings and another in the
    impression ("right upper lobe nodule" / "right lower lobe nodule"), when neither section
    names the other's lobe for it."""
    in_findings, in_impression = mentions(view)
    for said in in_impression:
        if said.polarity is not Polarity.AFFIRMED:
            continue
        said_lobe = _lobe(view, said)
        if said_lobe is None:
            continue
        same = [
            m
            for m in in_findings
            if _group(m.concept.name) == _group(said.concept.name)
            and m.polarity is Polarity.AFFIRMED
            and m.side == said.side
        ]
        lobes = {_lobe(view, m) for m in same}
        if not same or None in lobes or said_lobe in lobes:
            continue
        said_lobes = {
            _lobe(view, m)
            for m in in_impression
            if _group(m.concept.name) == _group(said.concept.name)
            and m.polarity is Polarity.AFFIRMED
        }
        if lobes & said_lobes:
            continue
        stated = same[0]
        message = (
            f"The findings place the {stated.concept.name} in the {_lobe(view, stated)} lobe but "
            f"the impression in the {said_lobe} lobe; correct the location."
        )
        return [finding(CODE, Severity.MAJOR, message, _evidence(view, stated, said), 0.75)]
    return []


# a negation of "focal" disease does not deny a diffuse or scattered process
_FOCAL = re.compile(r"\bfocal\b", re.IGNORECASE)
_DIFFUSE = re.compile(
    r"\b(?:diffuse\w*|patchy|scattered|multifocal|bilateral\w*|streaky|interstitial|"
    r"hazy|reticular\w*|bibasilar|bibasal)\b",
    re.IGNORECASE,
)


# findings whose denial is usually about one place ("no masses in the lungs" beside a
# mediastinal mass, "no acute fracture" beside an old one): not compared within the findings
_PLACED = frozenset(
    {"mass", "nodule", "adenopathy", "bone lesion", "fracture", "granuloma", "hernia"}
)
# words that may stand between a denial and its finding in a plain, unqualified denial
_PLAIN_DENIAL = re.compile(
    r"^(?:\s*(?:evidence|signs?|of|any|definite|focal|pleural|pulmonary|airspace|or|is|are|"
    r"there))*\s*$",
    re.IGNORECASE,
)
_DENIAL = re.compile(r"\b(?:no|without|negative for|free of)\b", re.IGNORECASE)
# a denial of the rest of the lungs, or of something else than what is stated
_LIMITED = re.compile(
    r"\b(?:other\w*|additional|new|further|elsewhere|remaining|residual|XXXX|suspicious|"
    r"solid|acute|significant|large|definite)\b",
    re.IGNORECASE,
)


def _plain_denial(view: ReportView, negated: Mention) -> bool:
    """ "No atelectasis.", "No evidence of pleural effusion.": a denial with nothing between
    the trigger and the finding that narrows it (a list, "other", "large", "suspicious")."""
    before = view.text[negated.sentence_start : negated.start]
    if _LIMITED.search(view.text, negated.sentence_start, negated.sentence_end):
        return False
    triggers = list(_DENIAL.finditer(before))
    return bool(triggers) and _PLAIN_DENIAL.match(before[triggers[-1].end() :]) is not None


def _sentence(view: ReportView, mention: Mention) -> str:
    return view.text[mention.sentence_start : mention.sentence_end]


# "the lungs are clear" said of the rest of the lungs: "otherwise", "remaining", "elsewhere"
_REST = re.compile(
    r"\b(?:otherwise|remain(?:der|ing)|rest|elsewhere|else|other|additional|further)\b",
    re.IGNORECASE,
)


def _within_section(view: ReportView, mentioned: tuple[Mention, ...]) -> list[Finding]:
    stated = [m for m in mentioned if m.polarity is Polarity.AFFIRMED]
    if not stated:
        return []
    for negated in mentioned:
        if negated.polarity is not Polarity.NEGATED or negated.concept.name in _PLACED:
            continue
        if not _plain_denial(view, negated):
            continue
        for m in stated:
            if (
                _group(m.concept.name) != _group(negated.concept.name)
                or m.sentence_start == negated.sentence_start
                or not _sides_compatible(m, negated)
                or (negated.side is not None and m.side != negated.side)
            ):
                continue
            if _focal_only(view, negated, m):
                continue
            return _within_finding(view, m, negated, _sentence(view, negated).strip())
    # "heart size is normal" beside cardiomegaly; "the lungs are clear" beside an airspace
    # process that is new, not hedged and not said of the rest of the lungs ("otherwise clear")
    for concept, regex in _NORMAL_STATEMENTS.items():
        for m in stated:
            if _group(m.concept.name) != concept or (concept != "cardiomegaly" and m.old):
                continue
            for span in view.named({m.section}):
                for normal in regex.finditer(view.text, span.start, span.end):
                    if m.sentence_start <= normal.start() < m.sentence_end:
                        continue
                    if concept != "cardiomegaly" and _REST.search(
                        view.text, max(span.start, normal.start() - 30), normal.end() + 40
                    ):
                        continue
                    return _within_finding(view, m, None, normal.group(0), normal.span())
    return []


def check_within_findings(view: ReportView) -> list[Finding]:
    """One section states a finding in one sentence and denies it, or calls the organ normal,
    in another ("Left basilar atelectasis. ... No atelectasis."; "Cardiomegaly. ... Heart size
    is normal."; "Right lower lobe infiltrate. No focal airspace disease."). A qualified denial
    ("no other", "no new", "no large"), one for the other side, "no focal" beside a diffuse
    process, or "the lungs are otherwise clear" is no contradiction."""
    in_findings, in_impression = mentions(view)
    return _within_section(view, in_findings) or _within_section(view, in_impression)


def _within_finding(
    view: ReportView,
    stated: Mention,
    negated: Mention | None,
    quote: str,
    span: tuple[int, int] | None = None,
) -> list[Finding]:
    where = "impression" if stated.section == "impression" else "findings"
    verb = "reports" if where == "impression" else "report"
    message = (
        f"The {where} {verb} {stated.concept.name} but also "
        f"{'says' if where == 'impression' else 'say'} '{quote[:80]}'; reconcile the {where}."
    )
    evidence = _evidence(view, stated) + (
        _evidence(view, negated)
        if negated is not None
        else [text_evidence(stated.section, view.text, *(span or (0, 0)))]
    )
    return [finding(CODE, Severity.MAJOR, message, evidence, 0.75)]


CHECKS: tuple[Callable[[ReportView], list[Finding]], ...] = (
    check_contradictions,
    check_location,
    check_within_findings,
    check_normal_statement,
    check_normal_impression,
    check_severity,
)
