"""Word lists for the report error injectors, written for this benchmark.

None of this comes from ``service/``: the lists were written by hand from the error classes of
ReXErr (Rao et al. 2024: change location, change measurement, change severity, false negation,
add contradiction, change to homophone, add typo) and Gertz et al. 2024 (omission, insertion,
spelling, side confusion, other), and from ordinary radiology and English usage. Non-word
misspellings come from Wikipedia's "Lists of common misspellings/For machines" (CC BY-SA 4.0),
loaded from ``data/wikipedia_misspellings.tsv`` (see :func:`misspellings`).
"""

from __future__ import annotations

import csv
from functools import cache

from bench.quality.common import HERE

SIDES = {"left": "right", "right": "left", "Left": "Right", "Right": "Left"}

# Sided positive findings: (findings sentence, short impression restatement); {s} is the side.
SIDED_FINDINGS = (
    ("Patchy airspace opacity is present in the {s} lower lobe.", "{S} lower lobe pneumonia."),
    ("Moderate {s} pleural effusion layers along the lateral chest wall.", "{S} effusion."),
    (
        "A thin {s} apical pleural line is seen without lung markings beyond it.",
        "{S} pneumothorax.",
    ),
    (
        "There is volume loss in the {s} upper lobe with upward hilar retraction.",
        "{S} upper lobe collapse.",
    ),
    (
        "Elevation of the {s} hemidiaphragm is new since the prior study.",
        "Raised {s} hemidiaphragm.",
    ),
    ("Healing fractures of the {s} fifth and sixth ribs laterally.", "{S} rib fractures."),
    ("Opacification of the {s} costophrenic angle.", "Blunted {s} costophrenic angle."),
    ("A rounded density projects over the {s} hilum.", "{S} hilar mass."),
)
# Structures that have one side only: the side named with them is impossible.
IMPOSSIBLE_SIDED = (
    ("Platelike opacity in the left middle lobe.", "Left middle lobe atelectasis."),
    ("Ill-defined opacity in the right lingula.", "Right lingular opacity."),
)
# Sided exams for a chest report (the display text of an order).
SIDED_EXAMS = ("XR RIBS {S} 3 VIEWS", "XR RIBS AND CHEST {S}", "XR SHOULDER {S} 2 VIEWS")
RIB_FINDING = (
    "Acute nondisplaced fracture of the {s} lateral seventh rib.",
    "{S} seventh rib fracture.",
)

# Sex: anatomy or history that belongs to one sex only.
FEMALE_ONLY = (
    "Bilateral breast implants are noted.",
    "Status post {s} mastectomy with surgical clips in the axilla.",
    "Overlapping breast shadows limit assessment of the lung bases.",
    "Calcified uterine fibroid partially imaged in the upper abdomen.",
)
MALE_ONLY = (
    "History of metastatic prostate carcinoma.",
    "Staging for testicular seminoma.",
    "Prostate cancer on androgen deprivation therapy.",
)
SEX_WORDS = {"male": ("woman", "female", "lady", "Mrs."), "female": ("man", "male", "gentleman")}
PRONOUN_SENTENCES = {
    # patient sex -> sentences whose pronouns say the other sex
    "male": ("She reports cough for one week.", "Her symptoms began after travel."),
    "female": ("He reports chest pain on exertion.", "His oxygen saturation is low."),
}

# Inconsistency: a positive finding and the statement that denies it.
POSITIVE_NEGATED = (
    ("Small {s} pleural effusion.", "No pleural effusion."),
    ("Small {s} apical pneumothorax.", "No pneumothorax."),
    ("Focal consolidation in the {s} lower lobe.", "Lungs are clear."),
    ("The cardiac silhouette is enlarged.", "Normal heart size."),
    ("Diffuse interstitial edema with Kerley B lines.", "No pulmonary edema."),
)
# Negations real reports use, and the positive finding that contradicts each.
NEGATION_TO_POSITIVE = (
    (r"\bno (?:\w+ ){0,2}pneumothorax\b", "Small {s} pneumothorax."),
    (r"\bno (?:\w+ ){0,2}(?:pleural )?effusions?\b", "Moderate {s} pleural effusion."),
    (r"\bno (?:\w+ ){0,2}consolidation\b", "Dense {s} lower lobe consolidation."),
    (r"\bno (?:\w+ ){0,2}(?:pulmonary )?edema\b", "Moderate pulmonary edema."),
    (r"\b(?:lungs|lung fields) (?:are|remain) clear\b", "Patchy {s} upper lobe consolidation."),
)
ACUTE_FINDINGS = (
    "Large {s} pneumothorax with shift of the mediastinum to the opposite side.",
    "Dense consolidation of the {s} lower lobe with air bronchograms.",
    "Acute displaced fractures of the {s} fourth through sixth ribs.",
    "Free air beneath the {s} hemidiaphragm.",
    "Bilateral perihilar airspace opacities and septal lines, new since the prior.",
)
NORMAL_IMPRESSIONS = (
    "No acute cardiopulmonary process.",
    "No acute abnormality.",
    "Normal chest radiograph.",
    "No active disease.",
)
SEVERITY_PAIRS = (("Small", "Large"), ("Trace", "Moderate"), ("Mild", "Severe"))

# Omission: significant findings that are not acute (so the missing mention is an omission,
# not a contradiction of "no acute abnormality").
SIGNIFICANT_FINDINGS = (
    "A 2.8 cm spiculated mass in the {s} upper lobe.",
    "Lobulated {s} hilar enlargement suspicious for adenopathy.",
    "An expansile lytic lesion of the {s} fourth rib.",
    "A 1.6 cm noncalcified nodule in the {s} mid lung.",
)

# Measurement: nodule sizes, and values no chest structure can have.
NODULE_SENTENCE = "A nodule measuring {n} {u} is seen in the {s} upper lobe."
NODULE_IMPRESSION = "{n} {u} {s} upper lobe nodule."
IMPOSSIBLE_VALUES = (
    "A 41 cm mass occupies the {s} upper lobe.",
    "The endotracheal tube tip is 38 cm above the carina.",
    "A 0.2 mm nodule is seen in the {s} lower lobe.",
    "The heart measures 64 cm in transverse diameter.",
)

# Speech-recognition substitutions: (word as meant, word as heard), real English words.
HOMOPHONES = (
    ("pleural", "plural"),
    ("discrete", "discreet"),
    ("effusion", "infusion"),
    ("emphysema", "empyema"),
    ("calcified", "classified"),
    ("nodule", "module"),
    ("interstitial", "intestinal"),
    ("there", "their"),
    ("no", "know"),
    ("right", "write"),
    ("bases", "basis"),
    ("scarring", "scaring"),
    ("mucus", "mucous"),
    ("lung", "long"),
    ("heart", "hurt"),
    ("prior", "prier"),
)

# Exam mismatch: other regions, technique of other modalities, contrast, views.
OTHER_REGION_EXAMS = (
    "XR KNEE 3 VIEWS",
    "CT HEAD WITHOUT CONTRAST",
    "US PELVIS TRANSVAGINAL",
    "XR LUMBAR SPINE 2 VIEWS",
    "MRI BRAIN WITH AND WITHOUT CONTRAST",
)
CHEST_EXAM = "XR CHEST 2 VIEWS"
OTHER_MODALITY_TECHNIQUE = (
    "TECHNIQUE: Axial images were acquired from the thoracic inlet to the adrenal glands.",
    "TECHNIQUE: Multiplanar multisequence MR images of the chest were obtained.",
    "TECHNIQUE: Grayscale and color Doppler sonographic images were obtained.",
    "TECHNIQUE: Tc-99m MAA perfusion images were acquired in eight projections.",
)
CONTRAST_STATEMENTS = (
    "TECHNIQUE: Images obtained after intravenous administration of 80 mL iodinated contrast.",
    "TECHNIQUE: Arterial and portal venous phase images were obtained.",
    "TECHNIQUE: Gadolinium-enhanced sequences were performed.",
)
ONE_VIEW_EXAM = "XR CHEST 1 VIEW PORTABLE"
TWO_VIEW_TECHNIQUE = "TECHNIQUE: Upright PA and left lateral views of the chest."

# Terminology: template fields left in dictated text, and informal abbreviations.
PLACEHOLDERS = ("***", "[ ]", "[***]", "<<SIDE>>", "{size}", "____", "[insert measurement]", "??")
PLACEHOLDER_SENTENCES = (
    "Nodule in the {p} lobe.",
    "The catheter tip projects over the {p}.",
    "Comparison: {p}.",
    "There is a {p} mm opacity at the {s} base.",
)
ABBREVIATIONS = (
    (r"\bbilateral\b", "b/l"),
    (r"\bwithout\b", "w/o"),
    (r"\bconsistent with\b", "c/w"),
    (r"\bpneumothorax\b", "PTX"),
    (r"\bpneumonia\b", "PNA"),
    (r"\bwithin normal limits\b", "WNL"),
    (r"\bhistory of\b", "h/o"),
    (r"\brule out\b", "r/o"),
    (r"\bshortness of breath\b", "SOB"),
    (r"\bwith\b", "w/"),
)
ABBREVIATION_SENTENCES = ("NAD.", "Heart WNL.", "Lungs clear b/l.", "Findings c/w PNA.")


@cache
def misspellings() -> dict[str, tuple[str, ...]]:
    """correct word -> its misspellings, from the Wikipedia list (the subset for report words)."""
    found: dict[str, list[str]] = {}
    path = HERE / "data" / "wikipedia_misspellings.tsv"
    with path.open(newline="") as handle:
        rows = csv.reader((line for line in handle if not line.startswith("#")), delimiter="\t")
        for wrong, right in rows:
            found.setdefault(right, []).append(wrong)
    return {right: tuple(sorted(wrongs)) for right, wrongs in found.items()}
