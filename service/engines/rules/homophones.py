"""``report.typo``: speech-recognition substitutions, read in context.

Speech recognition puts a real word where the radiologist said another that sounds alike, so a
spelling check never sees it. The confusions below are the ones the dictation literature
reports for radiology (Quint et al., AJR 2008; Ringler et al., Health Informatics J 2017; Motyer
et al., 2016), each with the context that tells the wrong word from the right one: "no" heard as
"know", "right" as "write", "heart" as "hurt", "effusion" as "infusion", "interstitial" as
"intestinal", "nodule" as "module", "calcified" as "classified", "prior" as "prier", "lung" as
"long", "pleural" as "plural", "aortic" as "erotic", "bowel" as "bowl", "emphysema" and "empyema"
swapped. A word is flagged only in the context that makes it wrong: "infusion port", "to know",
"long-term" and "long axis" are left alone.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from service.engines.base import Finding
from service.engines.rules._clinical import main_spans
from service.engines.rules._findings import finding, text_evidence
from service.engines.rules._report import ReportView, lowered
from service.taxonomy import Severity

CODE = "report.typo"
_SIDED_PLACES = (
    r"lobe|lung|side|sided|base|basilar|apex|apical|hil(?:um|ar)|atri(?:um|al)|ventricle|"
    r"hemithorax|hemidiaphragm|pleural|effusion|chest|breast|mastectomy|arm|upper|lower|middle|"
    r"mid(?:lung)?|ribs?|clavicle|shoulder|kidney|hip|knee|costophrenic|subclavian|jugular|IJ|"
    r"axilla\w*|paratracheal|XXXX"
)
_NOT_AFTER_LONG = r"(?!\s*-?\s*(?:term|standing|axis|segment|bones?|history|time|period|tubes?))"


def _rule(pattern: str, what: str, confidence: float = 0.85) -> tuple[re.Pattern[str], str, float]:
    return re.compile(pattern, re.IGNORECASE), what, confidence


HOMOPHONES: tuple[tuple[re.Pattern[str], str, float], ...] = (
    _rule(r"\bplural\b", "'plural' where 'pleural' is meant", 0.9),
    _rule(r"\bdiscreet(?:ly)?\b", "'discreet' where 'discrete' is meant"),
    _rule(
        r"\bileum\b(?=[^.]{0,60}\b(?:bone|crest|wing|fracture|iliac|acetabul\w*|"
        r"sacroiliac)\b)|\b(?:bone|crest|wing|fracture|iliac|acetabul\w*|sacroiliac)\b"
        r"[^.]{0,60}\bileum\b",
        "'ileum' (bowel) in a statement about bone: 'ilium' is meant",
        0.8,
    ),
    _rule(
        r"\bilium\b(?=[^.]{0,60}\b(?:bowel|loops?|ileocecal|cecum|colon|obstruction|"
        r"terminal|mucosa\w*)\b)|\b(?:bowel|loops?|terminal|ileocecal|cecum|colon|"
        r"obstruction|mucosa\w*)\b[^.]{0,60}\bilium\b",
        "'ilium' (bone) in a statement about bowel: 'ileum' is meant",
        0.8,
    ),
    _rule(
        r"\blong (?:fields?|volumes?|bases?|apex|apices|parenchyma|nodules?|markings|zones?|"
        r"disease|consolidation|changes|opacit\w+|mass|cancer|lesions?|scarring|is|are|"
        r"expansion|inflation)\b|\b(?:left|right|upper|lower|middle|mid|both|bilateral|"
        rf"chronic|interstitial|focal) long\b{_NOT_AFTER_LONG}",
        "'long' where 'lung' is meant",
    ),
    _rule(r"\bcallous (?:formation|formations)\b", "'callous' where 'callus' is meant", 0.8),
    _rule(r"\bhearth (?:size|silhouette|is|shadow)\b", "'hearth' where 'heart' is meant"),
    _rule(
        r"(?<!\bto )(?<!\bnot )(?<!\bdo )(?<!\bwe )(?<!\bI )(?<!\byou )(?<!\bthey )"
        r"\bknow\b(?!\s+(?:that|whether|if|how|what|why|when|where|about|of|the)\b)",
        "'know' where 'no' is meant",
    ),
    _rule(
        rf"\bwrite\b(?=[- ](?:\w+[- ]){{0,2}}?(?:{_SIDED_PLACES})\b)|"
        r"\b(?:left and|the|on the) write\b",
        "'write' where 'right' is meant",
    ),
    _rule(
        r"\b(?:the|normal|mild(?:ly)?|enlarged|borderline) hurt\b|\bhurt (?:size|is|and|"
        r"failure|silhouette|shadow|disease|rate|borders?|contours?|appears?)\b",
        "'hurt' where 'heart' is meant",
    ),
    _rule(
        r"\b(?:pleural|pericardial|subpulmonic|parapneumonic|loculated|layering) infusions?\b|"
        r"\b(?:no|small|large|moderate|trace|bilateral|definite)\s+(?:\w+\s+)?infusions?\b"
        r"(?!\s+(?:port|pump|catheter|line|therapy|of|site))|"
        r"\binfusions?(?=,?\s+(?:or|and)\s+(?:\w+\s+)?pneumothora)|"
        r"pneumothora\w+,?\s+(?:or|and)\s+(?:\w+\s+){0,2}infusions?\b",
        "'infusion' where 'effusion' is meant",
    ),
    _rule(
        r"\bintestinal (?:markings?|opacit\w*|infiltrat\w*|pattern|lung|pulmonary|"
        r"prominence|densit\w*|fibrosis|pneumonia|and alveolar)\b|\b(?:mixed|increased|"
        r"chronic|coarse|prominent) intestinal\b",
        "'intestinal' where 'interstitial' is meant",
    ),
    _rule(
        r"\b(?:a|another|noncalcified|non-calcified|calcified|pulmonary|lung|small|solitary|"
        r"spiculated|\d+(?:\.\d+)? ?(?:mm|cm)) modules?\b|\bmodules? (?:in|within|is|are|"
        r"at|projecting|measuring|seen|noted|overlying)\b",
        "'module' where 'nodule' is meant",
    ),
    _rule(r"\bprier\b", "'prier' where 'prior' is meant"),
    _rule(
        r"\bclassified (?:granulom\w*|nodul\w*|lymph|plaques?|densit\w*|hilar|mediastinal|"
        r"focus|foci|lesions?|mass|aort\w*|atheroscl\w*|opacit\w*|vascular)\b",
        "'classified' where 'calcified' is meant",
    ),
    _rule(r"\berotic\b", "'erotic' where 'aortic' is meant"),
    _rule(
        r"\b(?:small|large) bowls?\b|\bbowl (?:gas|loops?|obstruction|wall|pattern)\b",
        "'bowl' where 'bowel' is meant",
    ),
    _rule(r"\bhumorous\b", "'humorous' where 'humerus' is meant"),
    _rule(r"\bstints?\b", "'stint' where 'stent' is meant", 0.8),
    _rule(r"\b(?:spinal|vocal|umbilical) chords?\b", "'chord' where 'cord' is meant"),
    _rule(r"\bmass affect\b", "'mass affect' where 'mass effect' is meant"),
    _rule(r"\bscaring\b", "'scaring' where 'scarring' is meant"),
    _rule(
        r"\b(?:fat|tissue|cleavage|axial|coronal|sagittal|fascial) plain\b",
        "'plain' where 'plane' is meant",
        0.8,
    ),
    _rule(
        r"\brental (?:cysts?|calculus|calculi|stones?|artery|arteries|veins?|mass|cortex|"
        r"failure|collecting|parenchyma|pelvis)\b",
        "'rental' where 'renal' is meant",
    ),
    _rule(r"\b(?:minor|major|horizontal|oblique) fisher\b", "'fisher' where 'fissure' is meant"),
    _rule(
        r"\b(?:left|right|bilateral) higher (?=(?:adenopathy|lymph|mass|region|prominence|"
        r"fullness|enlargement|contours?)\b)",
        "'higher' where 'hilar' is meant",
        0.8,
    ),
    _rule(
        r"\bempyema\b(?=[^.]{0,80}\b(?:hyperinfla\w+|hyperexpan\w+|hyperlucen\w+|flatten\w+|"
        r"bull\w+|COPD|centrilobular|paraseptal|panlobular)\b)|\b(?:hyperinfla\w+|"
        r"hyperexpan\w+|hyperlucen\w+|flatten\w+|bull\w+|COPD|centrilobular|paraseptal|"
        r"panlobular|changes of)\b[^.]{0,80}\bempyema\b",
        "'empyema' in a statement about hyperinflated lungs: 'emphysema' is meant",
        0.8,
    ),
    _rule(r"\blegions?\b", "'legion' where 'lesion' is meant", 0.8),
    # words a chest report never uses, each a known recognition of a radiology word
    _rule(r"\ba cute\b", "'a cute' where 'acute' is meant", 0.9),
    _rule(r"\bdeceases?\b", "'decease' where 'disease' is meant", 0.85),
    _rule(r"\bin tact\b", "'in tact' where 'intact' is meant", 0.85),
    _rule(r"\blunges\b", "'lunges' where 'lungs' is meant", 0.85),
    _rule(r"\bsighs\b", "'sighs' where 'size' is meant", 0.85),
    _rule(r"\bchess\b", "'chess' where 'chest' is meant", 0.85),
    _rule(r"\bbonny\b", "'bonny' where 'bony' is meant", 0.85),
    _rule(r"\btorturous\b", "'torturous' where 'tortuous' is meant", 0.85),
    _rule(r"\becstatic\b", "'ecstatic' where 'ectatic' is meant", 0.85),
    _rule(r"\bammonia\b", "'ammonia' where 'pneumonia' is meant", 0.8),
    _rule(r"\bnoodles?\b", "'noodle' where 'nodule' is meant", 0.85),
    _rule(
        r"\bvocal (?:airspace|air space|consolidation|opacit\w+|infiltrat\w+|lesions?|"
        r"abnormalit\w+|areas?|densit\w+|nodul\w+|findings?|disease|pneumonia|atelectasis|"
        r"scarring|lucenc\w+)\b",
        "'vocal' where 'focal' is meant",
    ),
    _rule(
        r"\bregenerative (?:changes?|disease|joint|dis[ck]|spondylosis|arthritis|arthropathy|"
        r"endplate)\b",
        "'regenerative' where 'degenerative' is meant",
    ),
    _rule(
        r"\b(?:the|thoracic|ascending|descending|tortuous|calcified|atherosclerotic|unfolded|"
        r"abdominal) aura\b|\baura (?:is|appears|demonstrates|shows)\b",
        "'aura' where 'aorta' is meant",
    ),
)
# Every pattern above has one of these words: a report without any needs no further reading
# ("along" and "prolonged" are not "long"). Matched on the lowered text (_report.lowered), which
# is faster than re.IGNORECASE.
_TRIGGERS = re.compile(
    r"\b(?:plural|discreet|ileum|ilium|long|callous|hearth|know|write|hurt|infusions?|intestinal|"
    r"modules?|prier|classified|erotic|bowls?|humorous|stints?|chords?|affect|scaring|plain|"
    r"rental|fisher|higher|empyema|legions?|cute|deceases?|tact|lunges|sighs|chess|bonny|"
    r"torturous|ecstatic|ammonia|noodles?|vocal|regenerative|aura)\b",
)


def _key(word: str) -> str:
    """The trigger a word stands for ("infusions" -> "infusion", "Hearth" -> "heart")."""
    word = word.lower()
    return _ALIASES.get(word, word)


_ALIASES = {
    "infusions": "infusion",
    "modules": "module",
    "bowls": "bowl",
    "stints": "stint",
    "chords": "chord",
    "legions": "legion",
    "deceases": "decease",
    "noodles": "noodle",
}
# the trigger words each pattern needs, found once per report
_NEEDS: tuple[frozenset[str], ...] = tuple(
    frozenset(_key(w) for w in _TRIGGERS.findall(regex.pattern.replace("\\b", " ")))
    for regex, _, _ in HOMOPHONES
)


def _first(regex: re.Pattern[str], view: ReportView) -> re.Match[str] | None:
    for span in main_spans(view):
        m = regex.search(view.text, span.start, span.end)
        if m is not None:
            return m
    return None


def check_homophones(view: ReportView) -> list[Finding]:
    """The findings and impression only: an indication quotes the order ("chest hurts")."""
    low = lowered(view)
    present = {
        _key(m.group(0))
        for span in main_spans(view)
        for m in _TRIGGERS.finditer(low, span.start, span.end)
    }
    if not present:
        return []  # most reports: none of the words, so no context to read
    results: list[Finding] = []
    for (regex, what, confidence), needs in zip(HOMOPHONES, _NEEDS, strict=True):
        if needs and not needs & present:
            continue
        m = _first(regex, view)
        if m is None:
            continue
        evidence = [text_evidence(view.section_at(m.start()), view.text, m.start(), m.end())]
        message = f"Dictation error: {what}; correct the word."
        results.append(finding(CODE, Severity.MAJOR, message, evidence, confidence))
    return results[:3]


CHECKS: tuple[Callable[[ReportView], list[Finding]], ...] = (check_homophones,)
