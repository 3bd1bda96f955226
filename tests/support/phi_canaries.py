"""PHI canaries: identifiers planted in radiology report sentences, to measure de-identification.

Each :class:`Canary` is one short report text holding one or more identifiers (``identifiers``:
substrings that must not survive de-identification) and clinical text (``clinical``: substrings
that must survive verbatim). The clinical sentences come from the real reports in
``shared/data/reports`` (IU chest X-ray and MTSamples radiology), lightly edited.

Independence: every name, street, institution and number here is written by hand for this
corpus (people of many origins, invented or common), never taken from a filter's word list, so
recall measured here is not recall on the filter's own lexicon.

The ``_VARIED`` cases were written after the filter existed, to probe it with forms it was not
written against (lists of names, relatives, no-space labels, unusual date and phone forms);
``stretch`` marks the few that a cue-based filter cannot be expected to find (an institution
without "Hospital" or "Clinic", an abbreviation): the bench reports them, the tests do not require
them.

Cases whose ``known`` is set also carry what radqc knows for the item (DICOM-style patient name
``Family^Given^Middle``, patient id, accession, birth date). ``needs_known`` marks the cases that
free-text filtering alone is not expected to catch (a bare name with no context at all); the rest
must be caught with or without known identifiers. Generation is deterministic (seeded).
"""

from __future__ import annotations

import random
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from pydicom.dataset import Dataset

from service.phi.known import KnownIdentifiers, from_dicom

SEED = 20241204


@dataclass(frozen=True)
class KnownPatient:
    """What radqc knows for the item, in the forms its sources give (DICOM headers)."""

    dicom_name: str  # PatientName, "Family^Given^Middle"
    patient_id: str  # PatientID
    accession: str  # AccessionNumber
    birth_date: str  # PatientBirthDate, DICOM DA "YYYYMMDD"


@dataclass(frozen=True)
class Canary:
    case_id: str
    kind: str  # name, physician, mrn, accession, phone, email, address, date, institution, age
    text: str
    identifiers: tuple[str, ...]
    clinical: tuple[str, ...]
    known: KnownPatient | None = None
    needs_known: bool = False
    stretch: bool = False  # beyond a cue-based filter (a bare city, "Johns Hopkins"): reported only


def _split(block: str) -> list[str]:
    """Words of a block; an underscore joins the words of one name ("Van_der_Berg")."""
    return [w.replace("_", " ") for w in block.split()]


# --- hand-written people, places and numbers (independent of any filter's lexicon) --------------

GIVEN = _split(
    """
    Zyxwvut Aoife Siobhan Ngozi Chukwuemeka Oluwaseun Kwame Amara Fatima Yusuf Mohammed Aisha
    Omar Layla Mei Hiroshi Yuki Minh Thanh Ji-woo Seo-yeon Priya Arjun Rajesh Lakshmi José María
    Guadalupe Joaquín Søren Zoë Dmitri Olga Bogdan Agnieszka Jiří Renée François Gaëlle Björn
    Leilani Tariq Nadia Esperanza Wojciech Ifeoma Tendai Abebe Xiaoling Haruto Anh Sunil Deepika
    Khadija Ebony Brendan Margaret Eleanor Declan Rhiannon Tomasz Svetlana Mehmet Ayşe Ingrid
    Kalani Rangi Matías Xochitl Nkechi Babajide Hye-jin
    """
)
FAMILY = _split(
    """
    Quillfeather O'Neil McAllister Fitzgerald Whitmore Ashworth García Hernández Núñez Villalobos
    Wiśniewski Kowalczyk Dvořák Petrović Kuznetsova Zielińska Al-Rashid Haddad El-Masri Abdelaziz
    Nasrallah Qureshi Okonkwo Adeyemi Mensah Nwosu Abubakar Mutombo Ndlovu Kiprotich Nguyen Tran
    Zhang Xu Takahashi Nakamura Kim Park Patel Chatterjee Raghunathan Srinivasan Papadopoulos
    Schmidt Müller Öztürk Yilmaz Johansson Kealoha Tuilagi Bello-Okafor D'Angelo MacLeod
    Featherstonehaugh Oyelaran Hakimi Castellanos Lindqvist Wong Pham Mwangi Achterberg Ferreira
    Gonçalves Szabó Horvat Ivanova Baptiste Thibodeaux Van_der_Berg de_la_Cruz ter_Horst
    """
)
# Surnames that are also English or clinical words: only expected to go with a title or cue.
WORDLIKE_FAMILY = ["Long", "White", "Young", "Hart", "Small", "Strong", "Love", "Bone", "Park"]
INITIALS = ["J", "K", "M", "A", "T", "R", "S", "E"]

STREETS = [
    ("12", "Baker Street"),
    ("221B", "Baker Street"),
    ("4", "Elm Road"),
    ("1600", "Pennsylvania Ave"),
    ("77", "Massachusetts Avenue"),
    ("9", "Quarry Lane"),
    ("350", "Fifth Avenue"),
    ("18", "Ndlovu Drive"),
    ("5", "Kingfisher Close"),
    ("42", "Wallaby Way"),
    ("301", "Old Mill Road"),
    ("27", "Cherry Tree Court"),
    ("1024", "Sunset Blvd"),
    ("66", "Harbour View Terrace"),
    ("8", "Station Rd"),
    ("150", "Lakeshore Drive"),
    ("3", "Mountbatten Crescent"),
    ("44", "Calle Mayor"),
    ("73", "Willow Grove"),
    ("210", "Peachtree St"),
]
CITIES = [
    ("Boston", "MA", "02115"),
    ("Springfield", "IL", "62704"),
    ("Atlanta", "GA", "30303"),
    ("Portland", "OR", "97205"),
    ("Houston", "TX", "77030"),
    ("Madison", "WI", "53703"),
]
UK_POSTCODES = ["NW1 6XE", "SW1A 1AA", "M13 9WL", "EH3 9YY", "B15 2TH", "LS1 3EX"]
INSTITUTIONS = [
    "St. Mary's Hospital",
    "Riverside Community Hospital",
    "Massachusetts General Hospital",
    "King's College Hospital",
    "Hôpital Lariboisière",
    "Mercy Medical Center",
    "Lakeview Imaging Center",
    "Northgate Clinic",
    "Royal Infirmary of Edinburgh",
    "Ospedale San Raffaele",
    "Klinikum Rechts der Isar",
    "Saint Luke's Health System",
    "Baptist Memorial Hospital",
    "University Hospital of Wales",
    "Addenbrooke's Hospital",
    "Children's Hospital of Philadelphia",
    "Groote Schuur Hospital",
    "Aga Khan University Hospital",
    "Hospital Universitario La Paz",
    "Mount Sinai Medical Center",
]
MONTHS = _split(
    """
    January February March April May June July August September October November December
    """
)
CREDENTIALS = ["MD", "M.D.", "DO", "FRCR", "MBBS", "RN", "NP", "PA-C"]

# Clinical sentences from the real reports (IU chest X-ray, MTSamples), lightly edited.
CLINICAL = [
    "Left lung clear.",
    "There is a 3.2 cm nodule in the right upper lobe.",
    "Mild compression deformity of T10 is unchanged from prior study.",
    "In the left lung base, there is a 9 mm nodule that is not definitively calcified.",
    "No pneumothorax or pleural effusion.",
    "The cardiac silhouette and mediastinum size are within normal limits.",
    "Old healed left 5th and 6th rib fractures are seen laterally.",
    "Calcified 5 mm granuloma in the left midlung.",
    "Small 3.3 mm right-sided pneumothorax.",
    "There is a right upper lobe nodule measuring 8 mm in diameter.",
    "Interval increase in the left pleural effusion since 2 days ago.",
    "There are no XXXX of a pleural effusion.",
    "Degenerative changes of the thoracic spine at T8-T9.",
    "Right hilar lymph node measures 1.4 x 0.9 cm.",
    "Endotracheal tube terminates 4 cm above the carina.",
    "Elevated right hemidiaphragm.",
    "Heart size is normal. Lungs are clear bilaterally.",
    "A right upper extremity PICC is seen with the tip in the right brachiocephalic vein.",
    "Bilateral pleural effusions, right larger than left.",
    "Stable 12 mm left lower lobe nodule compared with the prior study.",
    "Acute obliquely oriented lucency through the right 12th posterior rib.",
    "Pacemaker generator overlying the left chest with 2 leads terminating in the right atrium.",
    "There is a 1 cm focal opacity in the right lung apex.",
    "Asymmetry of the left-sided soft tissues of the neck.",
    "Lateral views show a patent airway.",
    "No displaced rib fractures identified. No acute cardiopulmonary abnormality.",
    "Cholecystectomy clips are present. Small T-spine osteophytes.",
    "There has been interval increase in size of a 4.9 cm masslike opacity in the left lung base.",
]

Builder = Callable[[random.Random, int], Canary]


def _name(rng: random.Random) -> tuple[str, str]:
    return rng.choice(GIVEN), rng.choice(FAMILY)


def _clin(rng: random.Random, k: int = 1) -> tuple[str, ...]:
    return tuple(rng.sample(CLINICAL, k))


def _case(kind: str, i: int, text: str, ids: tuple[str, ...], clin: tuple[str, ...]) -> Canary:
    return Canary(f"{kind}-{i:03d}", kind, text, ids, clin)


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(n))


# --- patient names ------------------------------------------------------------------------------

_PATIENT_FRAMES = [
    ("Patient: {g} {f}\nFINDINGS: {c}", lambda g, f: (f"{g} {f}",)),
    (
        "PATIENT NAME: {F}, {G}\nEXAM: PA and lateral chest.\n{c}",
        lambda g, f: (f.upper(), g.upper()),
    ),
    ("Name: {f}, {g}. {c}", lambda g, f: (f, g)),
    ("Patient {g} {f}, MRN {mrn}, call {phone}. {c}", lambda g, f: (g, f)),
    ("Pt: {g} {f} (DOB {dob}). {c}", lambda g, f: (g, f)),
    ("pt name: {gl} {fl}. {c}", lambda g, f: (g.lower(), f.lower())),
    ("HISTORY: {g} {f} is a 64-year-old female with cough. {c}", lambda g, f: (g, f)),
    ("{g} {f} presents with shortness of breath. {c}", lambda g, f: (g, f)),
    ("Mr {f} was positioned erect. {c}", lambda g, f: (f,)),
    ("Mrs. {f}'s previous film is not available. {c}", lambda g, f: (f,)),
    ("Ms {g} {f} declined the lateral view. {c}", lambda g, f: (g, f)),
    ("Compared with Mr {f}'s study from last year. {c}", lambda g, f: (f,)),
    ("INDICATION: Miss {f}, fall. {c}", lambda g, f: (f,)),
    ("Patient name: {f}^{g}. {c}", lambda g, f: (f, g)),
    ("Patient: {g} {i}. {f}\nIMPRESSION: {c}", lambda g, f: (g, f)),
    ("Re: {g} {f}, male. {c}", lambda g, f: (g, f)),
]


def _patient_name(rng: random.Random, i: int) -> Canary:
    frame, ids = rng.choice(_PATIENT_FRAMES)
    g, f = _name(rng)
    c = _clin(rng)
    values = {
        "mrn": _digits(rng, 8),
        "phone": f"555-{_digits(rng, 4)}",
        "dob": f"{rng.randint(1930, 2005)}-0{rng.randint(1, 9)}-{rng.randint(10, 28)}",
    }
    text = frame.format(
        g=g,
        f=f,
        G=g.upper(),
        F=f.upper(),
        gl=g.lower(),
        fl=f.lower(),
        c=c[0],
        i=rng.choice(INITIALS),
        **values,
    )
    extra = tuple(v for k, v in values.items() if "{" + k + "}" in frame)
    return _case("name", i, text, ids(g, f) + extra, c)


_CONTACT_FRAMES = [
    ("Findings discussed with {f} at 14:30. {c}", lambda g, f: (f,)),
    ("Findings discussed with Dr {f} at 14:30. {c}", lambda g, f: (f,)),
    ("{c} Results d/w Dr. {g} {f} by telephone.", lambda g, f: (g, f)),
    ("{c} Critical result called to {g} {f}, RN, at 09:12.", lambda g, f: (g, f)),
    ("{c} The referring clinician, Dr {f}, was notified.", lambda g, f: (f,)),
    ("{c} Notified {g} {f} of the findings at 16:05.", lambda g, f: (g, f)),
    ("{c} These findings were communicated to Dr. {f} on the ward.", lambda g, f: (f,)),
    ("{c} discussed with dr {fl} at 14:30.", lambda g, f: (f.lower(),)),
    ("{c} d/w {fl}, covering resident.", lambda g, f: (f.lower(),)),
    ("{c} I spoke with {g} {f} (ED physician) at 02:40.", lambda g, f: (g, f)),
    ("{c} Paged Dr {f}; results read back.", lambda g, f: (f,)),
    ("{c} Case reviewed with Prof. {g} {f}.", lambda g, f: (g, f)),
    ("{c} Telephoned to Dr {g} {i}. {f}.", lambda g, f: (g, f)),
    ("{c} Per Dr {f}, please compare with outside films.", lambda g, f: (f,)),
    ("{c} Wet read given to {g} {f} at 23:10.", lambda g, f: (g, f)),
    ("{c} Findings relayed to {g} {f}, the patient's nurse.", lambda g, f: (g, f)),
]


def _contact_name(rng: random.Random, i: int) -> Canary:
    frame, ids = rng.choice(_CONTACT_FRAMES)
    g, f = _name(rng)
    if rng.random() < 0.15 and "Dr" in frame:
        f = rng.choice(WORDLIKE_FAMILY)
    c = _clin(rng)
    text = frame.format(g=g, f=f, fl=f.lower(), c=c[0], i=rng.choice(INITIALS))
    return _case("physician", i, text, ids(g, f), c)


_SIGNATURE_FRAMES = [
    "{c}\nDictated by: {g} {f}, {cr}",
    "{c}\nElectronically signed by {g} {i}. {f}, {cr} on {date}",
    "{c}\nRead by: {f}, {g} {cr}",
    "{c}\nReporting radiologist: Dr {g} {f}",
    "{c}\nReferring physician: {g} {f}, {cr}",
    "{c}\nOrdering provider: Dr. {f}",
    "{c}\ncc: Dr {g} {f}",
    "{c}\nSigned: {g} {f} {cr}",
    "{c}\nTranscribed by: {g} {f}",
    "{c}\nAttending: {f}, {g}",
    "{c}\nRADIOLOGIST: {G} {F}, {cr}",
    "{c}\nVerified by {g} {f} at 08:14",
]


def _signature(rng: random.Random, i: int) -> Canary:
    frame = rng.choice(_SIGNATURE_FRAMES)
    g, f = _name(rng)
    c = _clin(rng)
    date = f"{rng.randint(1, 28)} {rng.choice(MONTHS)} 2024"
    text = frame.format(
        g=g,
        f=f,
        G=g.upper(),
        F=f.upper(),
        c=c[0],
        i=rng.choice(INITIALS),
        cr=rng.choice(CREDENTIALS),
        date=date,
    )
    ids: tuple[str, ...] = (f.upper(),) if "{F}" in frame else (f,)
    if "{g}" in frame or "{G}" in frame:
        ids += (g.upper(),) if "{G}" in frame else (g,)
    if "{date}" in frame:
        ids += (date,)
    return _case("physician", i, text, ids, c)


# --- numbers ------------------------------------------------------------------------------------


def _mrn(rng: random.Random, i: int) -> Canary:
    forms = [
        lambda: ("MRN: ", _digits(rng, 8)),
        lambda: ("MRN ", f"{_digits(rng, 4)}-{_digits(rng, 4)}"),
        lambda: ("Med Rec #: ", f"A{_digits(rng, 7)}"),
        lambda: ("Medical record number ", _digits(rng, 7)),
        lambda: ("MR# ", f"{_digits(rng, 3)}-{_digits(rng, 2)}-{_digits(rng, 2)}"),
        lambda: ("Hospital number ", f"RX{_digits(rng, 6)}"),
        lambda: ("NHS number ", f"{_digits(rng, 3)} {_digits(rng, 3)} {_digits(rng, 4)}"),
        lambda: ("NHS No: ", _digits(rng, 10)),
        lambda: ("Patient ID: ", f"P-{rng.randint(2015, 2024)}-{_digits(rng, 5)}"),
        lambda: ("SSN ", f"{_digits(rng, 3)}-{_digits(rng, 2)}-{_digits(rng, 4)}"),
        lambda: ("Unit no. ", f"U{_digits(rng, 6)}"),
        lambda: ("", _digits(rng, 9)),
    ]
    label, value = rng.choice(forms)()
    c = _clin(rng)
    frame = rng.choice(["{l}{v}\n{c}", "{c} ({l}{v})", "{l}{v}. {c}"])
    return _case("mrn", i, frame.format(l=label, v=value, c=c[0]), (value,), c)


def _accession(rng: random.Random, i: int) -> Canary:
    forms = [
        lambda: ("Accession: ", f"ACC{rng.randint(2019, 2024)}{_digits(rng, 4)}-{_digits(rng, 4)}"),
        lambda: ("Acc# ", _digits(rng, 7)),
        lambda: ("accession number ", f"RAD-{_digits(rng, 5)}"),
        lambda: ("Study ID: ", f"CT{_digits(rng, 2)}-{_digits(rng, 6)}"),
        lambda: ("Exam no. ", f"{rng.randint(2019, 2024)}{_digits(rng, 4)}CR{_digits(rng, 4)}"),
        lambda: ("Order number: ", f"ORD{_digits(rng, 8)}"),
        lambda: ("Accession No ", f"{_digits(rng, 2)}.{_digits(rng, 6)}"),
        lambda: ("Visit ", f"V{_digits(rng, 9)}"),
    ]
    label, value = rng.choice(forms)()
    c = _clin(rng)
    text = rng.choice(["{l}{v}\n{c}", "EXAM: Chest PA/lateral. {l}{v}. {c}"]).format(
        l=label, v=value, c=c[0]
    )
    return _case("accession", i, text, (value,), c)


def _phone(rng: random.Random, i: int) -> Canary:
    forms = [
        lambda: f"555-{_digits(rng, 4)}",
        lambda: f"(617) 555-{_digits(rng, 4)}",
        lambda: f"617.555.{_digits(rng, 4)}",
        lambda: f"+1 617 555 {_digits(rng, 4)}",
        lambda: f"020 7946 {_digits(rng, 4)}",
        lambda: f"+44 20 7946 {_digits(rng, 4)}",
        lambda: f"07700 900{_digits(rng, 3)}",
        lambda: f"+33 1 42 68 {_digits(rng, 2)} {_digits(rng, 2)}",
        lambda: f"+91 98765 {_digits(rng, 5)}",
        lambda: f"+49 89 4140-{_digits(rng, 4)}",
        lambda: f"1-800-555-{_digits(rng, 4)}",
        lambda: f"ext. {_digits(rng, 4)}",
        lambda: f"pager {_digits(rng, 4)}",
        lambda: f"bleep {_digits(rng, 4)}",
    ]
    value = rng.choice(forms)()
    c = _clin(rng)
    frame = rng.choice(
        [
            "{c} Please call {v} with questions.",
            "{c} Reading room: {v}.",
            "{c} Contact the on-call radiologist on {v}.",
            "Callback number {v}. {c}",
        ]
    )
    secret = value.split(" ", 1)[1] if value.startswith(("ext", "pager", "bleep")) else value
    return _case("phone", i, frame.format(v=value, c=c[0]), (secret,), c)


def _email(rng: random.Random, i: int) -> Canary:
    g, f = _name(rng)
    local = rng.choice(["{g}.{f}", "{g0}{f}", "{f}.{g}", "{f}{n}", "radiology-{f}"]).format(
        g=_ascii(g).lower(),
        f=_ascii(f).lower().replace(" ", ""),
        g0=_ascii(g)[0].lower(),
        n=rng.randint(1, 99),
    )
    domain = rng.choice(
        ["hospital.org", "stmarys.nhs.uk", "mail.example.com", "uni-klinik.de", "clinic.co.za"]
    )
    email = f"{local}@{domain}"
    c = _clin(rng)
    frame = rng.choice(
        ["{c} Report copied to {e}.", "Send images to {e}. {c}", "{c}\nQueries: {e}"]
    )
    return _case("email", i, frame.format(e=email, c=c[0]), (email,), c)


def _ascii(s: str) -> str:
    folded = unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode()
    return folded.replace(" ", "").replace("'", "")


# --- places -------------------------------------------------------------------------------------


def _address(rng: random.Random, i: int) -> Canary:
    number, street = rng.choice(STREETS)
    city, state, zip_ = rng.choice(CITIES)
    style = rng.randrange(5)
    c = _clin(rng)
    if style == 0:  # the defect: the next sentence must survive
        addr = f"{number} {street}"
        text = f"Address: {addr}. {c[0]}"
        ids: tuple[str, ...] = (addr,)
    elif style == 1:
        addr = f"{number} {street}, {city}, {state} {zip_}"
        text = f"Home address {addr}. {c[0]}"
        ids = (f"{number} {street}", city, zip_)
    elif style == 2:
        pc = rng.choice(UK_POSTCODES)
        addr = f"{number} {street}, London {pc}"
        text = f"{c[0]} Patient lives at {addr}."
        ids = (f"{number} {street}", pc)
    elif style == 3:
        addr = f"Apt {rng.randint(1, 20)}{rng.choice('ABCD')}, {number} {street}"
        text = f"Lives alone at {addr}. {c[0]}"
        ids = (f"{number} {street}", addr.split(",")[0])
    else:
        box = f"PO Box {_digits(rng, 4)}"
        text = f"Mailing address: {box}, {city}, {state} {zip_}. {c[0]}"
        ids = (box, zip_)
    return _case("address", i, text, ids, c)


def _institution(rng: random.Random, i: int) -> Canary:
    inst = rng.choice(INSTITUTIONS)
    c = _clin(rng)
    frame = rng.choice(
        [
            "COMPARISON: CT chest from {inst}. {c}",
            "{c} Outside films from {inst} were reviewed.",
            "Patient transferred from {inst}. {c}",
            "HISTORY: Referred by the chest clinic at {inst}. {c}",
            "{c} Recommend correlation with prior imaging at {inst}.",
        ]
    )
    return _case("institution", i, frame.format(inst=inst, c=c[0]), (inst,), c)


# --- dates and ages -----------------------------------------------------------------------------


def _date(rng: random.Random, i: int) -> Canary:
    y, m, d = rng.randint(2015, 2024), rng.randint(1, 12), rng.randint(13, 28)
    mon = MONTHS[m - 1]
    forms = [
        f"{y}-{m:02d}-{d:02d}",
        f"{m:02d}/{d:02d}/{y}",
        f"{d:02d}/{m:02d}/{y}",
        f"{d}.{m:02d}.{y}",
        f"{d} {mon} {y}",
        f"{mon} {d}, {y}",
        f"{mon[:3]} {d} {y}",
        f"{d}-{mon[:3]}-{y}",
        f"{m}/{d}/{y % 100:02d}",
        f"{d}{_ordinal(d)} {mon} {y}",
        f"{mon[:3]}. {d}, {y}",
    ]
    value = rng.choice(forms)
    c = _clin(rng)
    frame = rng.choice(
        [
            "COMPARISON: {v}. {c}",
            "EXAM DATE: {v}\n{c}",
            "{c} Compared with the study of {v}.",
            "DOB: {v}. {c}",
            "Date of service {v}. {c}",
            "{c} Prior chest radiograph dated {v}.",
        ]
    )
    return _case("date", i, frame.format(v=value, c=c[0]), (value,), c)


def _ordinal(d: int) -> str:
    if d in (11, 12, 13):
        return "th"
    return {1: "st", 2: "nd", 3: "rd"}.get(d % 10, "th")


def _age(rng: random.Random, i: int) -> Canary:
    age = rng.choice([91, 93, 95, 97, 99, 101, 104, 90, 92, 96])
    form = rng.choice(
        ["{a}-year-old", "{a} year old", "{a} y/o", "{a}yo", "{a} years old", "aged {a}"]
    )
    value = form.format(a=age)
    c = _clin(rng)
    sex = rng.choice(["male", "female", "woman", "man"])
    text = f"HISTORY: {value} {sex} with chest pain. {c[0]}"
    return _case("age", i, text, (value,), (f"{sex} with chest pain", c[0]))


# --- identifiers radqc knows (built from DICOM headers) ------------------------------------------

_KNOWN_FRAMES = [
    # (text frame, needs_known) -- {F}/{G}/{M} family, given, middle; ids listed per frame below
    ("COMPARISON: prior film of {G} {F} from last year. {c}", True),
    ("{F} {G} {M}\n{c}", True),
    ("{c} Images of {G0}. {F} reviewed.", True),
    ("{c}\n{FU}, {GU} {M0}", True),
    ("Patient: {F}, {G}. {c}", False),
    ("{c} Discussed with Mr {F} himself.", False),
    ("{c} The study for {gl} {fl} was repeated.", True),
    ("{G} {M} {F}'s chest radiograph. {c}", True),
]


def _known(rng: random.Random, i: int) -> Canary:
    g, f = _name(rng)
    m = rng.choice(GIVEN)
    dicom = f"{f}^{g}^{m}"
    pid, acc = _digits(rng, 8), f"A{_digits(rng, 7)}"
    dob = f"{rng.randint(1930, 2000)}{rng.randint(1, 12):02d}{rng.randint(10, 28):02d}"
    frame, needs = rng.choice(_KNOWN_FRAMES)
    c = _clin(rng)
    text = frame.format(
        F=f,
        G=g,
        M=m,
        G0=g[0],
        M0=m[0],
        FU=f.upper(),
        GU=g.upper(),
        gl=g.lower(),
        fl=f.lower(),
        c=c[0],
    )
    lowered = text.lower()
    ids = tuple(x for x in (f, g, m) if x.lower() in lowered)
    if rng.random() < 0.5:
        text += f" Study {acc} for patient {pid}."
        ids += (acc, pid)
    known = KnownPatient(dicom, pid, acc, dob)
    return Canary(f"known-{i:03d}", "name", text, ids, c, known=known, needs_known=needs)


# (frame, kind, stretch): {g}/{f} given and family names, {g2}/{f2} a second person, {n}/{n4} digits
_VARIED = [
    ("Images reviewed with Dr. {f}-{f2} and the surgical team. {c}", "physician", False),
    ("{c} Results discussed by telephone with {g} {f}, NP, at 10:15.", "physician", False),
    ("{c} Dr. {f}'s office was notified.", "physician", False),
    ("ATTENDING PHYSICIAN: {F}, {G}\n{c}", "physician", False),
    ("Referring: {F}, {G}\n{c}", "physician", False),
    ("{c}\nCC: Dr. {g0}. {f}; Dr. {g20}. {f2}", "physician", False),
    ("{c} Findings were conveyed to the ordering provider, {g} {f}, PA.", "physician", False),
    (
        "{c} This report was electronically signed by Dr. {g} {f} on 2024-03-12 at 10:42.",
        "physician",
        False,
    ),
    ("I, Dr {f}, have reviewed the images. {c}", "physician", False),
    ("Preliminary report by resident Dr. {f}. {c}", "physician", False),
    ("{c} Examination performed by technologist {g0}. {f}.", "physician", False),
    ("Nurse {g} {f} reports the line was flushed. {c}", "physician", False),
    ("Comparison is made with an outside study from Dr. {f}'s office. {c}", "physician", False),
    ("Mr. and Mrs. {f} were informed of the result. {c}", "name", False),
    ("Seen with Mrs {f} (daughter). {c}", "name", False),
    ("{c} The patient's wife, {g}, was present.", "name", False),
    ("Per the patient's son, {g}, the fall was unwitnessed. {c}", "name", False),
    ("Name of patient: {g} {f}\n{c}", "name", False),
    ("PATIENT: {F}^{G}\n{c}", "name", False),
    ("MRN#:{n}\n{c}", "mrn", False),
    ("Acc: {n}. {c}", "accession", False),
    ("Accession #: {n}-45\n{c}", "accession", False),
    ("Order #{n}\n{c}", "accession", False),
    ("Patient ID {n}. {c}", "mrn", False),
    ("COMPARISON: 12/Mar/2024. {c}", "date", False),
    ("COMPARISON: 2024.03.12. {c}", "date", False),
    ("Study date 20240312. {c}", "date", False),
    ("Prior exam Mar-12-2024. {c}", "date", False),
    ("{c} Compared with 12 Mar 24.", "date", False),
    ("{c} Call (020) 7946 {n4} with questions.", "phone", False),
    ("{c} Reading room 617-555-{n4} x123.", "phone", False),
    ("{c} Call +1 (617) 555-{n4}.", "phone", False),
    ("Lives at Flat 3, 14 Queen's Road, Bristol BS8 1QU. {c}", "address", False),
    ("Address: 45 rue de Rivoli, 75001 Paris. {c}", "address", False),
    ("Lives at 10 Downing St, London. {c}", "address", False),
    ("Patient lives in Springfield with her daughter. {c}", "address", False),
    ("COMPARISON: Outside CT from Johns Hopkins. {c}", "institution", True),
    ("Transferred from the Cleveland Clinic Foundation. {c}", "institution", False),
    ("{c} Prior imaging at St Thomas' Hospital.", "institution", False),
    ("{c} Outside films from MGH were reviewed.", "institution", True),
]
_VARIED_IDS = (
    "12/Mar/2024",
    "2024.03.12",
    "20240312",
    "Mar-12-2024",
    "12 Mar 24",
    "Flat 3",
    "14 Queen's Road",
    "BS8 1QU",
    "45 rue de Rivoli",
    "75001",
    "10 Downing St",
    "Springfield",
    "Johns Hopkins",
    "Cleveland Clinic",
    "St Thomas' Hospital",
    "MGH",
)


def _varied(rng: random.Random, i: int) -> Canary:
    frame, kind, stretch = _VARIED[i % len(_VARIED)]
    (g, f), (g2, f2) = _name(rng), _name(rng)
    c = _clin(rng)
    n, n4 = _digits(rng, 8), _digits(rng, 4)
    text = frame.format(
        g=g, f=f, G=g.upper(), F=f.upper(), g0=g[0], g2=g2, f2=f2, g20=g2[0], n=n, n4=n4, c=c[0]
    )
    fields = {
        "{g}": g,
        "{G}": g.upper(),
        "{f}": f,
        "{F}": f.upper(),
        "{f2}": f2,
        "{n}": n,
        "{n4}": n4,
    }
    ids = tuple(v for k, v in fields.items() if k in frame)
    ids += tuple(v for v in _VARIED_IDS if v in frame)
    return Canary(f"varied-{i:03d}", kind, text, ids, c, stretch=stretch)


_PLAN: list[tuple[Builder, int]] = [
    (_patient_name, 90),
    (_contact_name, 60),
    (_signature, 45),
    (_mrn, 30),
    (_accession, 20),
    (_phone, 30),
    (_email, 12),
    (_address, 30),
    (_institution, 20),
    (_date, 36),
    (_age, 10),
    (_known, 40),
    (_varied, 2 * len(_VARIED)),
]


def canaries(seed: int = SEED) -> list[Canary]:
    """Every canary, in a stable order (same seed, same corpus)."""
    rng = random.Random(seed)
    return [build(rng, i) for build, count in _PLAN for i in range(count)]


def known_identifiers(canary: Canary) -> KnownIdentifiers | None:
    """What radqc would know for ``canary``: its DICOM header, through ``known.from_dicom``."""
    if canary.known is None:
        return None
    ds = Dataset()
    ds.PatientName = canary.known.dicom_name
    ds.PatientID = canary.known.patient_id
    ds.AccessionNumber = canary.known.accession
    ds.PatientBirthDate = canary.known.birth_date
    return from_dicom(ds)


def leaked(canary: Canary, output: str) -> list[str]:
    """The identifiers of ``canary`` still in ``output`` (whole words, any case).

    The clinical sentences are taken out first, so a surname such as "Small" is not counted as
    leaked because "Small 3.3 mm right-sided pneumothorax" survived (as it must).
    """
    residual = output
    for clinical in canary.clinical:
        residual = residual.replace(clinical, " ")
    return [x for x in canary.identifiers if _word(x).search(residual)]


def damaged(canary: Canary, output: str) -> list[str]:
    """The clinical substrings of ``canary`` that did not survive verbatim."""
    return [c for c in canary.clinical if c not in output]


def _word(s: str) -> re.Pattern[str]:
    return re.compile(r"(?<!\w)" + re.escape(s) + r"(?!\w)", re.IGNORECASE)


def free_text_canaries(seed: int = SEED) -> Iterator[Canary]:
    """The canaries the free-text filter must catch without known identifiers."""
    return (c for c in canaries(seed) if not c.needs_known and not c.stretch)
