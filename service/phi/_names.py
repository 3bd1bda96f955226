"""People's names found by their cues."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from service.phi._lexicon import english, looks_medical, not_names, proper, words
from service.phi._lexicon import names as names_lexicon
from service.phi._spans import Hit, sub

_WORD = r"(?:[^\W\d_]['\u2019](?=[^\W\d_]))?[^\W\d_]+(?:[-'\u2019][^\W\d_]+)*"
_NAME_TOKEN = re.compile(_WORD)
_INITIAL = re.compile(r"[A-Z]\.?(?=[ \t^]+[^\W\d_])")
_GAP = re.compile(r"[ \t]+|\^")
_WIDE = re.compile(r"[ \t]*(?:\t|  )[ \t]*")
_FILLERS = frozenset({"uh", "um", "er", "erm", "ah", "comma"})
_LABEL_NEXT = re.compile(r"[ \t]*:")
_ROLE_GAP = re.compile(r"[ \t]*,?[ \t]*")
_COMMA = re.compile(r",[ \t]*")
_REDACTED = re.compile(r"^[Xx]{2,}$")  # "Dr. XXXX": redacted upstream, kept as it is
_LABELS = (
    r"(?:patient'?s?|pt|full|family|given|first|last|sur)[ \t]?name|(?<!\w[ \t])name|patient"
    r"|pt|re|(?:referring|ordering|requesting|attending)"
    r"(?:[ \t](?:physician|doctor|provider|clinician|md))?"
    r"|(?:reporting[ \t]|reading[ \t]|interpreting[ \t])?radiologist|physician|provider"
    r"|technologist|tech|radiographer|sonographer|resident|fellow|consultant|surgeon|clinician"
    r"|doctor|pcp|gp"
    r"|copies[ \t]to|attn|contact|next[ \t]of[ \t]kin|nok|emergency[ \t]contact|guardian|author"
    r"|reader|signed|signature|[a-z]+[ \t]by|(?:patient'?s?[ \t]|pt[ \t])?initials"
    r"|supervis(?:ed|or|ing)(?:[ \t](?:by|radiologist|consultant|physician))?|chaperone"
    r"|interpreter|witness|scribe|typist|transcriptionist|referrer|requester|guarantor"
    r"|policy[ \t]?holder|subscriber|insured|responsible[ \t]party"
)
_LABEL = re.compile(rf"(?i:\b(?:{_LABELS}))[ \t]*:")
_DASH_LABEL = re.compile(rf"(?i:\b(?:{_LABELS}))[ \t]+[-\u2013\u2014][ \t]+")
# Labels that are as often followed by something else ("Reviewed: prior studies"): a name only
# with a word the lexicon takes for one ("Verified: J. Oyelaran").
_WEAK_LABEL = re.compile(
    r"(?i:\b(?:subject|verified|approved|authori[sz]ed|dictated|transcribed|reported|reviewed"
    r"|read|performed|done|operator))[ \t]*:"
)
_TITLE = re.compile(
    r"\b(?:(?P<lower>Dr|DR|dr|Prof|PROF)\.?|(?:Mr|mr|Mrs|mrs|Ms|Mx)\.?|(?:MR|MRS|MS)\."
    r"|Miss|Doctor|Professor|Sister|Nurse|Rev|Dame|Sir|Mister)(?=[ \t])"
    r"|\b(?:Dr|Prof)\.(?=[A-Z][a-z])"
)
_BY = re.compile(
    r"\b(?:(?:electronically|digitally)[ \t])?(?:signed|dictated|transcribed|verified|read|reviewed"
    r"|approved|interpreted|reported|referred|requested|performed|acknowledged|authenticated"
    r"|read[ \t]back|final|prelim(?:inary)?|wet[ \t]read|addended|co-?signed)[ \t]by\b(?![ \t]*:)",
    re.IGNORECASE,
)
# "note by Eleni Papadaki", "emergency contact Tunde Bakare": a name only with the lexicon's word
_WEAK_CUE = re.compile(
    r"\b(?:by|(?:emergency[ \t]+)?contact|next[ \t]+of[ \t]+kin|nok|guardian|guarantor)[ \t]+"
    r"(?=[A-Z])"
)
_TALK = re.compile(
    r"(?<![\w-])(?:(?P<lower>discussed[ \t]with|d/w|(?:spoke|spoken|talked)[ \t](?:to|with))"
    r"|reviewed[ \t]with|conferred[ \t]with|called(?:[ \t]to)?|paged|notified|informed"
    r"|(?:tele)?phoned(?:[ \t]to)?|communicated[ \t](?:to|with)|conveyed[ \t]to|relayed[ \t]to"
    r"|reported[ \t]to|given[ \t]to|faxed[ \t]to|sent[ \t]to|copied[ \t]to|c/o)\b",
    re.IGNORECASE,
)
_CALLED = re.compile(
    r"\b(?:(?:maiden|birth|former|married|legal|preferred|full|real)[ \t]+name"
    r"(?:[ \t]+(?:is|was|of))?|name[ \t]+(?:is|was)|n[ée]e|a\.k\.a\.?|aka|also[ \t]+known[ \t]+as"
    r"|formerly|goes[ \t]+by|(?:prefers|likes)[ \t]+to[ \t]+be[ \t]+called"
    r"|chaperone|interpreter|witness|(?:patient'?s?|pt)[ \t]+name)[ \t]+(?=[A-Z])"
    r"|\((?:now|formerly|née)[ \t]+|\bknown[ \t]+as[ \t]+[\"'\u201c\u2018](?=[A-Z])",
    re.IGNORECASE,
)
# Dictating doctor's and typist's initials closing a dictation: "JRM/lsw", "ab:cd"
_TYPIST = re.compile(
    r"(?:^|(?<=[.:] ))[ \t]*([A-Z]{2,4}[/:][a-z]{2,4})(?=[ \t]*(?:$|[ \t]{2}|D:))", re.MULTILINE
)
_PATIENT = re.compile(r"\b(?:Patient|PATIENT|patient|Pt|pt)[ \t]+")
_KIN = (
    r"(?:wife|husband|spouse|partner|son|daughter|mother|father|sister|brother|friend|carer"
    r"|caregiver|guardian|neighbou?r|(?:grand|step)?(?:son|daughter|mother|father|child)"
    r"|niece|nephew|aunt|uncle|cousin|fianc[ée]e?|boyfriend|girlfriend|parent|sibling)"
)
_RELATIVE = re.compile(
    rf"(?i:\b{_KIN})(?:[ \t]*,[ \t]*(?=[^\W\d_][^,\n]{{0,40}},)|[ \t]*\([ \t]*(?=[^\W\d_]))"
)
_KIN_NAME = re.compile(rf"(?i:\b{_KIN})[ \t]+(?=[^\W\d_])")
# "Baby boy of Zainab ...", "twin A of ...": the mother's name
_CHILD_OF = re.compile(
    r"\b(?i:baby|infant|newborn|neonate|twin(?:[ \t][AB12])?|(?:baby[ \t])?(?:boy|girl))"
    r"[ \t]+of[ \t]+(?=[A-Z])"
)
_CREDENTIAL = (
    r"MD|M\.D\.|DO|FRCR|FRCPC|FRANZCR|MBBS|MBChB|PhD|RN|NP|PA-C|RT\(R\)(?:\(\w+\))*|DNB|DMRD|MRCS"
    r"|MRCP|FRCS|FRCP|RDMS|RVT|RDCS|CNMT|ARRT|DABR|FACR|MSc|MPH|NP-C|CRNA|FFR|FAANS|FACS|DMRT"
)
_AGE_SEX = (
    r"\d{1,3}[ \t]?(?:y|yo|yrs?|years?|Y)?[ \t]?/?[ \t]?[MFmf]\b"  # 35F, 56/M, 45 Y/F
    r"|\(?[ \t]*[MF][ \t]*[/,][ \t]*\d{1,3}[ \t]*(?:y|yo|yrs?)?[ \t]*\)"  # (M/45), (F, 58)
)
# Cues that follow a name: "Nkechi Goncalves, 64F", "ALEKSANDR IVANOV-PETROV MD", "... attended"
_BEFORE_CUE = re.compile(
    r"(?:(?<=[^\W\d_])|(?<=\b[A-Z]\.))(?:,?[ \t]*\(?(?:MRN|DOB|D\.O\.B|NHS\b)"
    r"|,[ \t]*(?:aged?[ \t]+)?\d{1,3}[ -]?(?:y|yo|yrs?|years?)\b"
    r"|,[ \t]*\d{1,3}[ -]?(?:d|days?|wks?|weeks?|mos?|months?)[ -]old\b"
    rf"|,?[ \t]+(?:{_CREDENTIAL})(?!\w)|,[ \t]*(?:{_AGE_SEX})|[ \t]+\((?:{_AGE_SEX})"
    rf"|[ \t]+[-\u2013][ \t]+(?:{_AGE_SEX})"
    r"|[ \t]+(?:is|was)[ \t]+an?[ \t]+\d{1,3}|[ \t]+(?:presents|presented|complains)\b"
    r"|[ \t]+(?:attended|underwent|was[ \t]+(?:seen|admitted|transferred|brought|referred))\b)"
)
# The words right before such a cue ("Family, Given Middle" at most)
_BEFORE = re.compile(
    rf"(?<![\w'\u2019-])(?:{_WORD},?[ \t]+)?(?:{_WORD}[ \t]+){{0,2}}{_WORD}(?:[ \t]+[A-Z]\.)?\Z"
)
_MODALITY = r"XR|CT|MR|MRI|US|USG|NM|PET|CXR|DXA|DEXA|X-?ray|Ultrasound|Mammo\w*|Fluoro\w*|CTA|MRA"
# A name alone at the start of a line, before the exam: "Konstantinos Papadopoulos - XR knee"
_HEADER_NAME = re.compile(
    rf"^[ \t]*((?:{_WORD}[ \t]+){{0,3}}{_WORD})"
    rf"(?=,?(?:[ \t]+(?:{_AGE_SEX}))?[ \t]+[-\u2013\u2014:][ \t]+(?:{_MODALITY})\b)",
    re.MULTILINE,
)


def names(text: str, days: int) -> Iterator[Hit]:
    for m in _LABEL.finditer(text):
        yield from _name_at(text, m.end(), lower_ok=True, comma_ok=True, caps_ok=True)
    for m in _DASH_LABEL.finditer(text):  # "Attending radiologist - Yaw Boateng"
        yield from _name_at(text, m.end(), comma_ok=True, caps_ok=True, evidence=True)
    for m in _WEAK_LABEL.finditer(text):
        yield from _name_at(text, m.end(), comma_ok=True, caps_ok=True, evidence=True)
    for m in _WEAK_CUE.finditer(text):
        yield from _name_at(text, m.end(), evidence=True, two=True)
    for m in _TITLE.finditer(text):
        lower = bool(m.group("lower"))
        yield from _name_at(text, m.end(), lower_ok=lower, caps_ok=True, titled=True)
    for m in _BY.finditer(text):
        yield from _name_at(text, _skip_roles(text, m.end()), caps_ok=True)
    for m in _TALK.finditer(text):
        yield from _name_at(text, _skip_roles(text, m.end()), lower_ok=bool(m.group("lower")))
    for m in _PATIENT.finditer(text):  # "Patient Zyxwvut Quillfeather", "pt kwame asante"
        lower = text[m.end() : m.end() + 1].islower()
        yield from _name_at(text, m.end(), comma_ok=True, proper_only=lower)
    yield from sub(_TYPIST, text, lambda m: "[NAME]", group=1)
    for m in _RELATIVE.finditer(text):  # "the patient's wife, Aoife, was present"
        yield from _name_at(text, m.end())
    for m in _KIN_NAME.finditer(text):  # "granddaughter mei lin zhou translated"
        yield from _name_at(text, m.end(), proper_only=True)
    for m in _CHILD_OF.finditer(text):
        yield from _name_at(text, m.end(), proper_only=True)
    for m in _CALLED.finditer(text):  # "maiden name Whitlock, Deborah", "her name is ..."
        yield from _name_at(text, m.end(), comma_ok=True, caps_ok=True)
    for cue in _BEFORE_CUE.finditer(text):
        start = max(text.rfind("\n", 0, cue.start()) + 1, cue.start() - 120)
        before = _BEFORE.search(text, start, cue.start())
        if before:
            yield from _name_before(text, before)
    for m in _HEADER_NAME.finditer(text):
        yield from _name_before(text, m, group=1)


def _skip_roles(text: str, pos: int) -> int:
    """Past "the referring clinician," to the name that may follow."""
    while True:
        gap = _ROLE_GAP.match(text, pos)
        at = gap.end() if gap else pos
        m = _NAME_TOKEN.match(text, at)
        if not m or m.group().lower() not in words()["role_skip"]:
            return at
        pos = m.end()


def _is_name_word(word: str, stop: frozenset[str], *, lower_ok: bool, caps_ok: bool) -> bool:
    if word.lower() in stop or _REDACTED.match(word):
        return False
    if word[0].isupper():
        return caps_ok or len(word) == 1 or not word.isupper()  # "sent to the PACS"
    return lower_ok


@dataclass(frozen=True)
class _Mode:
    """What a name run after a cue may hold (see :func:`_name_at`)."""

    lower_ok: bool = False
    comma_ok: bool = False
    caps_ok: bool = False
    titled: bool = False
    proper_only: bool = False
    evidence: bool = False
    two: bool = False


def _name_at(text: str, pos: int, **mode: bool) -> Iterator[Hit]:
    """The run of name words from ``pos`` (one line at most), as one hit.

    With ``proper_only`` every word, in any case, must be one the lexicon takes for a name
    (:func:`service.phi._lexicon.proper`): "pt kwame asante seen in ED"; with ``evidence``, one
    of them at least; with ``two``, two words at least.

    After a title a clinical word is a name too: "Dr Small", "Mr White". The run stops at a wide
    gap (two spaces or a tab: the next field of a form), and a word followed by ":" is that next
    field's label, not part of the name.
    """
    how = _Mode(**mode)
    spans = _run(text, pos, how)
    if spans and _LABEL_NEXT.match(text, spans[-1][1]):
        spans.pop()  # "Sonographer: Amira H.  Comments: ..."
    if not spans or (how.two and len(spans) < 2):
        return
    if how.proper_only and len(spans) < 2 and text[spans[0][0]].islower():
        return  # one lower-case word after "pt" is a state, not a name: "pt intubated"
    if how.evidence and not _evidence([text[a:b] for a, b in spans]):
        return
    if not _team_follows(text, spans[-1][1], eponym=True):
        yield Hit(spans[0][0], spans[-1][1], "[NAME]")


def _run(text: str, pos: int, how: _Mode) -> list[tuple[int, int]]:
    """Where the words of the name run from ``pos`` are (at most four, initials apart)."""
    stop = words()["not_names"] if how.titled else not_names()
    spans: list[tuple[int, int]] = []
    comma_ok, i = how.comma_ok, pos
    while len(spans) < 4:
        gap = _GAP.match(text, i)
        if gap:
            if spans and _WIDE.fullmatch(gap.group()):
                break
            i = gap.end()
        elif spans and not (comma_ok and text.startswith(",", i)):
            break
        if spans and comma_ok and text.startswith(",", i):
            after = _COMMA.match(text, i)
            nxt = _NAME_TOKEN.match(text, after.end()) if after else None
            if not nxt or len(nxt.group()) < 2 or nxt.group().lower() in stop:
                break
            comma_ok, i = False, nxt.start()
        initial = _INITIAL.match(text, i)
        m = initial or _NAME_TOKEN.match(text, i)
        if not m:
            break
        low = m.group().lower()
        if initial is None and ((low in words()["particles"] and spans) or low in _FILLERS):
            i = m.end()  # "van der Berg"; dictated: "patient uh petrovic comma milena"
            continue
        if initial is None and not _word_ok(m.group(), bool(spans), how, stop):
            break
        end = m.end() - (2 if low.endswith(("'s", "\u2019s")) else 0)
        spans.append((i, end))
        i = m.end()
        if end < i:  # a possessive ends the name
            break
    return spans


def _word_ok(word: str, after_first: bool, how: _Mode, stop: frozenset[str]) -> bool:
    if how.proper_only or (how.titled and after_first and word.islower()):
        # "Dr. Foley placed the catheter" (placed is no name); "dr amal haddad dictating"
        return proper(word) and not _REDACTED.match(word)
    if _is_name_word(word, stop, lower_ok=how.lower_ok, caps_ok=how.caps_ok):
        return True
    # "Dr April May": a month is a name after a title and a first name
    return how.titled and after_first and word.istitle() and word.lower() in words()["calendar"]


def _team_follows(text: str, end: int, *, eponym: bool = False) -> bool:
    """ "called to the Stroke Team": the words before a team word name a team, not a person;
    with ``eponym``, "Sister Mary Joseph nodule" names a sign, not a sister."""
    gap = _GAP.match(text, end)
    m = _NAME_TOKEN.match(text, gap.end()) if gap else None
    after = m.group().lower() if m else ""
    return after in words()["team_words"] or (eponym and after in words()["eponym_heads"])


def _evidence(run: list[str], *, census: bool = False) -> bool:
    """A word of ``run`` is a name for the lexicon (with ``census``, any first name or surname
    will do: "Grace Brown, 45F"), and none is shaped like medicine's words: "Chen Mei-Ling, 35F"
    but not "Indication: Hemoptysis, 60M"."""
    lexicon = names_lexicon()
    return not any(looks_medical(w) for w in run) and any(
        proper(w) or (census and _census_name(w.lower(), lexicon)) for w in run
    )


def _census_name(low: str, lexicon: dict[str, frozenset[str]]) -> bool:
    """A first name or surname that is not one of English's commonest words ("case", "will")."""
    return (low in lexicon["first"] or low in lexicon["last"]) and english().get(low, 0) < 100_000


def _name_before(text: str, m: re.Match[str], group: int = 0) -> Iterator[Hit]:
    """ "Nkechi Goncalves is a 64-year-old...": the capitalised words right before the cue.

    Capitals are a name here when they all are ("IVANOV-PETROV MD"); a single letter is not
    ("Sex: F  DOB: ...").
    """
    stop = not_names()
    run = m.group(group)
    tokens = list(_NAME_TOKEN.finditer(run))
    while tokens and (tokens[0].group().lower() in stop or not tokens[0].group()[0].isupper()):
        tokens.pop(0)
    if len(tokens) > 1 and len(tokens[-1].group()) == 1:
        run_words = [t.group() for t in tokens[:-1]]  # "Obi, Chukwuemeka A. (DOB ...)"
    else:
        run_words = [t.group() for t in tokens]
    caps = len(run_words) > 1 and all(w.isupper() for w in run_words)  # not "RHM", "AIDS"

    def ok(word: str) -> bool:
        return len(word) > 1 and _is_name_word(word, stop, lower_ok=False, caps_ok=caps)

    if run_words and all(ok(w) for w in run_words) and _evidence(run_words, census=True):
        base = m.start(group)
        yield Hit(base + tokens[0].start(), base + tokens[-1].end(), "[NAME]")
