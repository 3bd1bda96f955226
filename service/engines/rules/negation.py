"""NegEx-style negation and uncertainty of a term inside one sentence (Chapman et al., 2001).

Our own small implementation: negspacy and medspacy need a spaCy pipeline and model, and nothing
may fetch a model at run time. A term is *negated* when a negation trigger ("no", "without",
"negative for", "free of", "resolved") precedes it in the same clause, or a post-trigger ("is not
seen", "has resolved", "are absent") follows it; *uncertain* for "may", "possible", "cannot be
excluded", "versus"; otherwise *affirmed*. A clause ends at "but", "however", "although",
"except", "which", ";" or ":"; pre-triggers reach at most fifteen words ahead (NegEx uses five
to eight, but radiology reports negate long lists: "no focal airspace disease, pleural effusion,
or pneumothorax"). "Cannot be excluded" and "not well seen" are hedges, not negations, and a
"near-complete" or "partial resolution" leaves the finding there. An opacity put down to what
lies over the lungs ("secondary to epicardial fat", "due to overlying soft tissues") is a
pseudo-finding and counts as negated.
"""

from __future__ import annotations

import re
from enum import StrEnum


class Polarity(StrEnum):
    AFFIRMED = "affirmed"
    NEGATED = "negated"
    UNCERTAIN = "uncertain"


_WINDOW = 15  # words a pre-trigger reaches: radiology negates long lists
_PRE_NEGATION = re.compile(
    r"\b(?:no|not|without|negative for|free of|absence of|absent|"
    r"(?<!near-complete )(?<!near complete )(?<!partial )(?<!incomplete )resolution of|resolved|"
    r"rule out|ruled out|r/o|no evidence of|no signs? of|no findings? of|nor|denies|"
    r"never|cleared|clearing of|clear of|interval resolution of|removal of|removed|"
    r"there is no|there are no|know)\b",  # "know": "no" misheard (a typo, not a finding)
    re.IGNORECASE,
)
_POST_NEGATION = re.compile(
    r"^[^.;]{0,40}?\b(?:(?:is|are|was|were|has|have)\s+(?:not|no longer|been resolved|resolved)"
    r"|not (?:seen|identified|present|visualized|demonstrated|evident|appreciated)"
    r"|(?:has|have)\s+(?:resolved|cleared)|resolved|cleared|absent|excluded|ruled out|removed)\b",
    re.IGNORECASE,
)
_UNCERTAIN = re.compile(
    r"\b(?:may|might|could|possible|possibly|probable|probably|questionable|question of|"
    r"suspect|suspected|suspicious for|concern(?:ing)? for|cannot be excluded|"
    r"can ?not be ruled out|not excluded|versus|vs|differential|consider|likely|"
    r"unlikely|equivocal|suggestive of|suggests?|rule out|r/o|evaluation of|evaluate for|"
    r"assess for|limited for|evaluation for|assessment (?:of|for))\b",
    re.IGNORECASE,
)
_TERMINATOR = re.compile(
    r"\b(?:but|however|although|though|except|which|whereas|aside from|apart from|"
    r"with the exception of|otherwise)\b|[;:]|,\s+(?=(?:there|the|a|an)\b)",
    re.IGNORECASE,
)
# "cannot be excluded" reads as a negation word by word but is a hedge
_HEDGED = re.compile(
    r"\b(?:(?:can ?not|could not|not) be (?:excluded|ruled out)|can ?not (?:exclude|rule out)|"
    r"not excluded|not (?:well|clearly)[- ](?:seen|visualized|demonstrated|evaluated|assessed))\b",
    re.IGNORECASE,
)
# a pseudo-finding: an opacity the sentence puts down to what lies over or around the lungs
# ("opacity secondary to epicardial fat", "density due to overlying soft tissues") is not there
_PSEUDO = re.compile(
    r"^[^.;]{0,40}?\b(?:secondary to|due to|related to|attributable to|attributed to|caused by|"
    r"(?:most )?(?:likely|probably) (?:from|reflect\w*|represent\w*)|reflect\w*|represent\w*)"
    r"\s+(?:the\s+|an?\s+)?(?:\w+\s+){0,2}?(?:(?:overlying|overlapping) (?:\w+ )?"
    r"(?:soft tissues?|breast|structures|shadows?|vessels|vascular|bones?|ribs|fat|clothing|"
    r"hair)|epicardial fat|(?:cardiac |pericardial )?fat pads?|soft tissues?|breast tissue|"
    r"breast shadows?|nipple|summation|artifact|patient rotation|costochondral)\b",
    re.IGNORECASE,
)
_WORD = re.compile(r"\S+")


_REACH = 240  # characters read either side of a term: NegEx's window, bounded for huge input


def _clause_before(sentence: str, start: int) -> str:
    """The words of the same clause before ``start``, at most the NegEx window."""
    before = sentence[max(0, start - _REACH) : start]
    cut = 0
    for match in _TERMINATOR.finditer(before):
        cut = match.end()
    words = _WORD.findall(before[cut:])
    return " ".join(words[-_WINDOW:])


def _clause_after(sentence: str, end: int) -> str:
    after = sentence[end : end + _REACH]
    match = _TERMINATOR.search(after)
    return after[: match.start()] if match else after


def polarity(sentence: str, start: int, end: int) -> Polarity:
    """Whether the term at ``sentence[start:end]`` is affirmed, negated or uncertain."""
    before = _clause_before(sentence, start)
    after = _clause_after(sentence, end)
    if _HEDGED.search(before) or _HEDGED.search(after):
        return Polarity.UNCERTAIN
    if _PRE_NEGATION.search(before) or _POST_NEGATION.search(after):
        return Polarity.NEGATED
    if _PSEUDO.search(after):
        return Polarity.NEGATED
    if _UNCERTAIN.search(before) or _UNCERTAIN.search(after[:60]):
        return Polarity.UNCERTAIN
    return Polarity.AFFIRMED
