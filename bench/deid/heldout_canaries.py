# ruff: noqa: E501, RUF001
"""Held-out PHI canaries for radiology report de-identification.

Written independently of the filter implementation and of its own test data, so
that recall can be measured on text the filter's author never saw.

Pure data: ``CASES`` is a list of dicts, each with
    text      -- a fragment of radiology report / dictation / HL7 text
    phi       -- exact substrings of ``text`` that identify a person or place
                 (all occurrences must be removed)
    clinical  -- exact substrings of ``text`` that must survive de-identification
    kind      -- the main PHI type of the case ("clean" for cases with no PHI)

All names, numbers, addresses and contact details are fictitious.
Deterministic; no imports from the repository.
"""

# (kind, text, phi, clinical)
_RAW = [
    # ------------------------------------------------------------------
    # Patient names
    # ------------------------------------------------------------------
    (
        "patient_name",
        "EXAM: CT CHEST WITH CONTRAST\nPATIENT: Nguyen Thi Lan\nHISTORY: 67F, chronic cough, ex-smoker.\n"
        "FINDINGS: 1.2 cm spiculated nodule in the right upper lobe. No mediastinal lymphadenopathy.\n"
        "IMPRESSION: Suspicious right upper lobe nodule; PET-CT recommended.",
        ["Nguyen Thi Lan"],
        [
            "67F",
            "1.2 cm",
            "spiculated nodule",
            "right upper lobe",
            "No mediastinal lymphadenopathy",
            "PET-CT",
        ],
    ),
    (
        "patient_name",
        "Mrs. van der Berg is a 54-year-old female presenting with left flank pain. CT KUB demonstrates a 6 mm "
        "calculus at the left UVJ with mild left hydronephrosis.",
        ["van der Berg"],
        ["54-year-old female", "left flank pain", "6 mm", "left UVJ", "mild left hydronephrosis"],
    ),
    (
        "patient_name",
        "pt kwame asante seen in ed after fall on outstretched hand. xr left wrist: nondisplaced distal radius "
        "fracture, no dorsal angulation.",
        ["kwame asante"],
        ["xr left wrist", "nondisplaced distal radius fracture", "no dorsal angulation"],
    ),
    (
        "patient_name",
        "Mr. Bishop was unable to follow breath-hold instructions and the images are degraded by respiratory "
        "motion. No pulmonary embolism to the segmental level.",
        ["Bishop"],
        ["respiratory motion", "No pulmonary embolism", "segmental level"],
    ),
    (
        "patient_name",
        "Ms. Lung tolerated the procedure well. Three 18 gauge core samples were obtained from the right upper "
        "lobe mass under CT guidance. Small apical pneumothorax, unchanged at 1 hour.",
        ["Lung"],
        ["18 gauge", "right upper lobe mass", "Small apical pneumothorax", "1 hour"],
    ),
    (
        "patient_name",
        "RE: Chukwuemeka Obi-Nwosu\nUS ABDOMEN: The liver measures 17.2 cm and is diffusely echogenic, "
        "consistent with steatosis. Gallbladder contains multiple mobile calculi. CBD 4 mm.",
        ["Chukwuemeka Obi-Nwosu"],
        ["17.2 cm", "diffusely echogenic", "steatosis", "multiple mobile calculi", "CBD 4 mm"],
    ),
    (
        "patient_name",
        "MRI LUMBAR SPINE\nName: KOWALCZYK, Agnieszka\nFindings: At L4-L5 there is a broad-based disc protrusion "
        "with moderate bilateral foraminal narrowing. Conus terminates at L1.",
        ["KOWALCZYK, Agnieszka"],
        [
            "L4-L5",
            "broad-based disc protrusion",
            "moderate bilateral foraminal narrowing",
            "Conus terminates at L1",
        ],
    ),
    (
        "patient_name",
        "Patient Rose Hill, 71 y/o woman, referred for screening mammogram. Scattered fibroglandular densities. "
        "No suspicious mass or calcifications. BI-RADS 1.",
        ["Rose Hill"],
        [
            "71 y/o woman",
            "Scattered fibroglandular densities",
            "No suspicious mass or calcifications",
            "BI-RADS 1",
        ],
    ),
    (
        "patient_name",
        "Kim Min-jun (M/45) CT brain non-contrast: No acute intracranial hemorrhage. Old lacunar infarct in the "
        "left basal ganglia.",
        ["Kim Min-jun"],
        ["M/45", "No acute intracranial hemorrhage", "lacunar infarct", "left basal ganglia"],
    ),
    (
        "patient_name",
        "Clinical details: Tigist Haile Gebremariam, 29F, 32 weeks gestation, reduced fetal movements.\n"
        "Obstetric US: Single live intrauterine fetus, cephalic. EFW 1890 g. AFI 14 cm.",
        ["Tigist Haile Gebremariam"],
        [
            "29F",
            "32 weeks gestation",
            "Single live intrauterine fetus",
            "cephalic",
            "EFW 1890 g",
            "AFI 14 cm",
        ],
    ),
    (
        "patient_name",
        "Patient: Mohammed bin Khalid Al-Harbi\nCXR AP portable: Right IJ central line with tip at the "
        "cavoatrial junction. No pneumothorax.",
        ["Mohammed bin Khalid Al-Harbi"],
        ["Right IJ central line", "cavoatrial junction", "No pneumothorax"],
    ),
    (
        "patient_name",
        "Ms. Shirin Ghorbani-Nejad presents for follow-up of a Bosniak IIF cyst in the right kidney, today "
        "measuring 2.8 cm (previously 2.7 cm 6 months ago).",
        ["Shirin Ghorbani-Nejad"],
        ["Bosniak IIF", "right kidney", "2.8 cm", "2.7 cm", "6 months ago"],
    ),
    (
        "patient_name",
        "Name: Mr. Venkatesh Subramanian   Age/Sex: 62/M   Ref by: Self\nUSG Abdomen: Prostate enlarged, "
        "volume 48 cc. Post-void residual 110 mL.",
        ["Venkatesh Subramanian"],
        ["62/M", "Prostate enlarged", "48 cc", "Post-void residual 110 mL"],
    ),
    (
        "patient_name",
        "Dmitri Aleksandrovich Volkov underwent CT angiography of the aorta. Stanford type B dissection "
        "extending from just distal to the left subclavian artery to the infrarenal aorta.",
        ["Dmitri Aleksandrovich Volkov"],
        ["Stanford type B dissection", "left subclavian artery", "infrarenal aorta"],
    ),
    (
        "patient_name",
        "Konstantinos Papadopoulos - XR right knee 3 views: tricompartmental osteoarthritis, most severe in the "
        "medial compartment. Small suprapatellar effusion.",
        ["Konstantinos Papadopoulos"],
        [
            "right knee",
            "tricompartmental osteoarthritis",
            "medial compartment",
            "Small suprapatellar effusion",
        ],
    ),
    (
        "patient_name",
        "Hasta: Ayşe Yılmaz-Demir. CT abdomen: Acute uncomplicated appendicitis, appendix 11 mm in diameter "
        "with periappendiceal fat stranding.",
        ["Ayşe Yılmaz-Demir"],
        ["Acute uncomplicated appendicitis", "11 mm", "periappendiceal fat stranding"],
    ),
    (
        "patient_name",
        "Patient María de la Cruz Hernández, 38, G2P1, pelvic US: 3.4 cm right ovarian hemorrhagic cyst. "
        "Endometrium 9 mm.",
        ["María de la Cruz Hernández"],
        ["G2P1", "3.4 cm", "right ovarian hemorrhagic cyst", "Endometrium 9 mm"],
    ),
    (
        "patient_name",
        "João Gonçalves dos Santos, CT head: no acute intracranial abnormality. Chronic small vessel ischemic "
        "change in the periventricular white matter.",
        ["João Gonçalves dos Santos"],
        [
            "no acute intracranial abnormality",
            "Chronic small vessel ischemic change",
            "periventricular white matter",
        ],
    ),
    (
        "patient_name",
        "Ingrid Bjørnstad (F, 58) - MR shoulder left: full-thickness tear of the supraspinatus tendon with "
        "1.5 cm retraction.",
        ["Ingrid Bjørnstad"],
        [
            "F, 58",
            "MR shoulder left",
            "full-thickness tear",
            "supraspinatus tendon",
            "1.5 cm retraction",
        ],
    ),
    (
        "patient_name",
        "Pádraig Ó Briain, 44M. MRI brain: solitary 7 mm enhancing lesion in the right cerebellar hemisphere.",
        ["Pádraig Ó Briain"],
        ["44M", "7 mm", "enhancing lesion", "right cerebellar hemisphere"],
    ),
    (
        "patient_name",
        "Fiona MacLeod attended for CT colonography. 8 mm sessile polyp in the sigmoid colon.",
        ["Fiona MacLeod"],
        ["CT colonography", "8 mm sessile polyp", "sigmoid colon"],
    ),
    (
        "patient_name",
        "spoke with pt ewan mcallister re: incidental adrenal nodule 1.8 cm, -5 HU, consistent with lipid-rich "
        "adenoma, no follow up needed.",
        ["ewan mcallister"],
        ["adrenal nodule", "1.8 cm", "-5 HU", "lipid-rich adenoma"],
    ),
    (
        "patient_name",
        "Chen Mei-Ling, 35F, thyroid US: 1.4 cm solid hypoechoic nodule in the left lobe with "
        "microcalcifications, TI-RADS 5. FNA recommended.",
        ["Chen Mei-Ling"],
        [
            "35F",
            "1.4 cm",
            "solid hypoechoic nodule",
            "left lobe",
            "microcalcifications",
            "TI-RADS 5",
            "FNA",
        ],
    ),
    (
        "patient_name",
        "Pt J.D. (initials per referral) with known Crohn disease. MR enterography: 12 cm segment of active "
        "terminal ileal inflammation without abscess.",
        ["J.D."],
        [
            "Crohn disease",
            "MR enterography",
            "12 cm",
            "terminal ileal inflammation",
            "without abscess",
        ],
    ),
    (
        "patient_name",
        "Pt initials: KLM. Pelvis XR: Left femoral neck fracture, Garden III.",
        ["KLM"],
        ["Left femoral neck fracture", "Garden III"],
    ),
    (
        "patient_name",
        "tran van minh 52m ct abd: hepatic segment 7 lesion 2.3 cm arterial enhancement with washout, li-rads 5.",
        ["tran van minh"],
        ["52m", "segment 7", "2.3 cm", "arterial enhancement with washout", "li-rads 5"],
    ),
    (
        "patient_name",
        "Oluwaseun Adeyemi-Bakare (DOB 12-Feb-1971) attended for DEXA. L1-L4 T-score -2.7, consistent with "
        "osteoporosis.",
        ["Oluwaseun Adeyemi-Bakare", "12-Feb-1971"],
        ["L1-L4", "T-score -2.7", "osteoporosis"],
    ),
    (
        "patient_name",
        "PATIENT NAME: WASHINGTON, LINCOLN J\nEXAM: XR CHEST 1V\nRESULT: ET TUBE 4 CM ABOVE CARINA. NG TUBE TIP "
        "IN STOMACH. BIBASILAR ATELECTASIS.",
        ["WASHINGTON, LINCOLN J"],
        ["ET TUBE 4 CM ABOVE CARINA", "NG TUBE TIP IN STOMACH", "BIBASILAR ATELECTASIS"],
    ),
    (
        "patient_name",
        "The nasogastric tube placed by nursing for Mr Gallagher terminates in the gastric fundus, 10 cm beyond "
        "the GE junction.",
        ["Gallagher"],
        ["nasogastric tube", "gastric fundus", "10 cm", "GE junction"],
    ),
    (
        "patient_name",
        "Mrs. Joy Black presents for follow-up. Interval decrease in size of the left pleural effusion, now small.",
        ["Joy Black"],
        ["Interval decrease", "left pleural effusion", "now small"],
    ),
    (
        "patient_name",
        "Mr. Frank Marsh, 66M, CTPA: Saddle pulmonary embolus with RV/LV ratio 1.4, suggestive of right heart "
        "strain.",
        ["Frank Marsh"],
        ["66M", "Saddle pulmonary embolus", "RV/LV ratio 1.4", "right heart strain"],
    ),
    (
        "patient_name",
        "Georgia Houston, 24F, presents with RLQ pain. Pelvic US shows normal ovaries with preserved Doppler flow.",
        ["Georgia Houston"],
        ["24F", "RLQ pain", "normal ovaries", "preserved Doppler flow"],
    ),
    (
        "patient_name",
        "Patient states her name is Summer Fields and she had a right total knee replacement 2 years ago. "
        "Components well seated, no periprosthetic lucency.",
        ["Summer Fields"],
        ["right total knee replacement", "2 years ago", "no periprosthetic lucency"],
    ),
    (
        "patient_name",
        "ADDENDUM: Images re-reviewed at the request of the clinical team caring for Ms. Abernathy-Quist. The "
        "4 mm left lower lobe nodule is unchanged from 2 years ago and is considered benign.",
        ["Abernathy-Quist"],
        ["4 mm", "left lower lobe nodule", "2 years ago", "considered benign"],
    ),
    (
        "patient_name",
        "Krzysztof Wójcik, 70M, CT head: Acute right subdural hematoma measuring 9 mm with 4 mm leftward "
        "midline shift.",
        ["Krzysztof Wójcik"],
        ["70M", "Acute right subdural hematoma", "9 mm", "4 mm leftward midline shift"],
    ),
    (
        "patient_name",
        "Ngozi Chiamaka Eze is a 31-year-old woman 8 weeks post-partum with right leg swelling. Duplex: "
        "occlusive thrombus in the right common femoral and popliteal veins.",
        ["Ngozi Chiamaka Eze"],
        [
            "31-year-old woman",
            "8 weeks post-partum",
            "right leg swelling",
            "occlusive thrombus",
            "right common femoral and popliteal veins",
        ],
    ),
    (
        "patient_name",
        "Harpreet Kaur Sandhu, 47F - MRI pelvis: multiple intramural fibroids, largest 5.6 cm in the posterior "
        "fundus.",
        ["Harpreet Kaur Sandhu"],
        ["47F", "multiple intramural fibroids", "5.6 cm", "posterior fundus"],
    ),
    (
        "patient_name",
        "Watanabe Kenji (family name first) - CT sinuses: complete opacification of the left maxillary sinus "
        "with obstruction of the ostiomeatal unit.",
        ["Watanabe Kenji"],
        ["complete opacification", "left maxillary sinus", "ostiomeatal unit"],
    ),
    (
        "patient_name",
        "Pt: Abdirahman Warsame Farah. CXR: cavitating lesion in the right upper lobe, query TB. Recommend "
        "sputum AFB.",
        ["Abdirahman Warsame Farah"],
        ["cavitating lesion", "right upper lobe", "query TB", "sputum AFB"],
    ),
    (
        "patient_name",
        "this is the radiologist dictating on patient uh petrovic comma milena m i l e n a period chest x-ray "
        "two views period no acute cardiopulmonary process period",
        ["petrovic", "milena", "m i l e n a"],
        ["chest x-ray two views", "no acute cardiopulmonary process"],
    ),
    (
        "patient_name",
        "PID|1||7731902^^^RBH^MR||OKAFOR^CHIDINMA^A^^MS||19840622|F|||Flat 4, 22 Tavistock Sq^^London^^WC1H 9HX^GB"
        "||07700 900461\nOBX|1|TX|IMP||Small left pleural effusion.||||||F",
        [
            "7731902",
            "RBH",
            "OKAFOR",
            "CHIDINMA",
            "19840622",
            "Flat 4, 22 Tavistock Sq",
            "London",
            "WC1H 9HX",
            "07700 900461",
        ],
        ["Small left pleural effusion"],
    ),
    (
        "patient_name",
        "pt d'souza, anita - knee mri: bucket-handle tear of the medial meniscus with displaced fragment in the "
        "intercondylar notch.",
        ["d'souza, anita"],
        ["bucket-handle tear", "medial meniscus", "intercondylar notch"],
    ),
    (
        "patient_name",
        "History: Mr. Jan-Willem de Vries-Koster, fall from ladder. CT C-spine: Type II odontoid fracture, no "
        "cord compromise.",
        ["Jan-Willem de Vries-Koster"],
        ["fall from ladder", "Type II odontoid fracture", "no cord compromise"],
    ),
    (
        "patient_name",
        "Mr. Cliff Stone, 59M, CT KUB: 4 mm non-obstructing calculus in the lower pole of the right kidney. "
        "No hydronephrosis.",
        ["Cliff Stone"],
        [
            "59M",
            "4 mm non-obstructing calculus",
            "lower pole of the right kidney",
            "No hydronephrosis",
        ],
    ),
    (
        "patient_name",
        "Maria Theresa Dela Peña-Santos, 41F, presented with RUQ pain. US: acute calculous cholecystitis with "
        "positive sonographic Murphy sign, wall 5 mm.",
        ["Maria Theresa Dela Peña-Santos"],
        [
            "41F",
            "RUQ pain",
            "acute calculous cholecystitis",
            "sonographic Murphy sign",
            "wall 5 mm",
        ],
    ),
    (
        "patient_name",
        "Patient: Sione Tuilagi-Fa'amausili  Exam: XR ankle left. Weber B fracture of the distal fibula with "
        "medial clear space widening to 7 mm.",
        ["Sione Tuilagi-Fa'amausili"],
        [
            "XR ankle left",
            "Weber B fracture",
            "distal fibula",
            "medial clear space widening",
            "7 mm",
        ],
    ),
    (
        "patient_name",
        "Note: prior CT filed under maiden name Whitlock, Deborah (now Deborah Pennington-Ash) was used for "
        "comparison. Stable 1.1 cm right adrenal adenoma.",
        ["Whitlock, Deborah", "Deborah Pennington-Ash"],
        ["Stable 1.1 cm right adrenal adenoma"],
    ),
    (
        "patient_name",
        "Yosef Ben-David, 77M: Barium swallow demonstrates a 2 cm Zenker diverticulum arising from the "
        "posterior hypopharynx.",
        ["Yosef Ben-David"],
        ["77M", "2 cm Zenker diverticulum", "posterior hypopharynx"],
    ),
    (
        "patient_name",
        "Pt Md. Rafiqul Islam Chowdhury, 56/M, HRCT chest: bilateral subpleural reticulation with honeycombing "
        "at the bases, UIP pattern.",
        ["Md. Rafiqul Islam Chowdhury"],
        ["56/M", "bilateral subpleural reticulation", "honeycombing", "UIP pattern"],
    ),
    (
        "patient_name",
        "on review with the pt, mrs. o'neill-byrne, the left hip pain is more likely due to greater "
        "trochanteric bursitis than OA.",
        ["o'neill-byrne"],
        ["left hip pain", "greater trochanteric bursitis", "OA"],
    ),
    (
        "patient_name",
        "Compared to the chest radiograph obtained at Mr. Okonjo's GP practice last week, the left basal "
        "opacity has increased.",
        ["Okonjo"],
        ["chest radiograph", "last week", "left basal opacity has increased"],
    ),
    (
        "patient_name",
        "The patient, a retired nurse named Gloria, reports pain at the site of the prior Foley catheter. "
        "Bladder wall thickening, 8 mm.",
        ["Gloria"],
        ["Foley catheter", "Bladder wall thickening", "8 mm"],
    ),
    (
        "patient_name",
        "Per Nkechi's request the study was performed without sedation. MRI cervical spine: no cord signal "
        "abnormality.",
        ["Nkechi"],
        ["without sedation", "no cord signal abnormality"],
    ),
    (
        "patient_name",
        "Images of Mrs Papadakis's right breast show a 9 mm oval circumscribed mass at 7 o'clock, likely "
        "fibroadenoma, BI-RADS 3.",
        ["Papadakis"],
        ["right breast", "9 mm oval circumscribed mass", "7 o'clock", "fibroadenoma", "BI-RADS 3"],
    ),
    (
        "patient_name",
        "Mrs. Foley has an indwelling Foley catheter; the bladder is decompressed. No hydroureter.",
        ["Mrs. Foley"],
        ["indwelling Foley catheter", "bladder is decompressed", "No hydroureter"],
    ),
    (
        "patient_name",
        "Mr. Baker, known rheumatoid arthritis: 5.2 cm Baker's cyst in the right popliteal fossa, with "
        "dissection into the calf.",
        ["Mr. Baker"],
        [
            "rheumatoid arthritis",
            "5.2 cm Baker's cyst",
            "right popliteal fossa",
            "dissection into the calf",
        ],
    ),
    (
        "patient_name",
        "Mr. Chance, restrained driver in MVC; CT shows a Chance fracture at L1 with posterior ligamentous "
        "disruption.",
        ["Mr. Chance"],
        ["Chance fracture at L1", "posterior ligamentous disruption"],
    ),
    (
        "patient_name",
        "Patient Ms. Aoife NicAodha-Brennan. Sinus CT: mucus retention cyst in the right maxillary antrum.",
        ["Aoife NicAodha-Brennan"],
        ["mucus retention cyst", "right maxillary antrum"],
    ),
    (
        "patient_name",
        "Mr. Tesfamariam Gebreyesus Woldemichael was scanned on the 3T unit. MR angiography: 4 mm aneurysm of "
        "the anterior communicating artery.",
        ["Tesfamariam Gebreyesus Woldemichael"],
        ["3T", "4 mm aneurysm", "anterior communicating artery"],
    ),
    (
        "patient_name",
        "Pt Nikolaos Georgiadis-Ward complains of low back pain. MRI: L5-S1 disc extrusion compressing the "
        "traversing left S1 nerve root.",
        ["Nikolaos Georgiadis-Ward"],
        ["low back pain", "L5-S1 disc extrusion", "left S1 nerve root"],
    ),
    (
        "patient_name",
        "Subject: Zhang Xiaoming / 张晓明. Low-dose CT chest for screening: Lung-RADS 2.",
        ["Zhang Xiaoming", "张晓明"],
        ["Low-dose CT chest", "Lung-RADS 2"],
    ),
    (
        "patient_name",
        "PATIENT: OLSEN-MCCARTHY, ERIK  CLINIC: FRACTURE\nXR R TIBIA/FIBULA: SPIRAL FRACTURE OF THE DISTAL "
        "THIRD OF THE TIBIA, 5 MM DISPLACEMENT.",
        ["OLSEN-MCCARTHY, ERIK"],
        ["XR R TIBIA/FIBULA", "SPIRAL FRACTURE", "DISTAL THIRD OF THE TIBIA", "5 MM DISPLACEMENT"],
    ),
    (
        "patient_name",
        "Pt Lakshmi Priya Ramaswamy (Ms) - mammogram left CC/MLO: architectural distortion in the upper outer "
        "quadrant, BI-RADS 4A.",
        ["Lakshmi Priya Ramaswamy"],
        ["architectural distortion", "upper outer quadrant", "BI-RADS 4A"],
    ),
    # ------------------------------------------------------------------
    # Full reports with several identifiers (kind = main type)
    # ------------------------------------------------------------------
    (
        "patient_name",
        "MERCY GENERAL HOSPITAL - DEPARTMENT OF RADIOLOGY\nPatient: Delgado-Ruiz, Esperanza  MRN: 00938271  "
        "DOB: 11/02/1951\nAccession: CT2403140087  Exam Date: 03/14/2024\nOrdering: Dr. Aaron Feldstein\n\n"
        "EXAM: CT ANGIOGRAPHY CHEST\nCLINICAL HISTORY: 72F, pleuritic chest pain, tachycardia.\n"
        "TECHNIQUE: 75 mL Omnipaque 350 IV. DLP 412 mGy·cm.\nFINDINGS: Acute pulmonary emboli in the right "
        "lower lobe segmental and subsegmental arteries. RV/LV ratio 0.9. Small right pleural effusion.\n"
        "IMPRESSION: Acute right lower lobe PE without CT evidence of right heart strain.\n"
        "Critical result called to Dr. Feldstein at 14:32 by telephone.\n"
        "Electronically signed by: Yuki Hashimoto-Grant, MD 03/14/2024 14:40",
        [
            "MERCY GENERAL HOSPITAL",
            "Delgado-Ruiz, Esperanza",
            "00938271",
            "11/02/1951",
            "CT2403140087",
            "03/14/2024",
            "Aaron Feldstein",
            "Feldstein",
            "Yuki Hashimoto-Grant",
        ],
        [
            "72F",
            "75 mL Omnipaque 350",
            "DLP 412 mGy·cm",
            "Acute pulmonary emboli",
            "right lower lobe segmental and subsegmental arteries",
            "RV/LV ratio 0.9",
            "Small right pleural effusion",
            "without CT evidence of right heart strain",
        ],
    ),
    (
        "patient_name",
        "Royal Infirmary of Edinburgh\nName: MACKENZIE, Alasdair Iain   CHI: 2304561879\n"
        "Referrer: Dr S. Rahman, GP, Marchmont Medical Practice\nExam: CT Colonography  Date: 23/04/2024\n"
        "Report: 25 mm pedunculated polyp in the descending colon. Diverticular disease of the sigmoid colon. "
        "No extracolonic abnormality of note.\nConclusion: C3 polyp; refer for colonoscopy.\n"
        "Reported by Dr Catriona Fairbairn, Consultant Radiologist, GMC 7012345",
        [
            "Royal Infirmary of Edinburgh",
            "MACKENZIE, Alasdair Iain",
            "2304561879",
            "S. Rahman",
            "Marchmont Medical Practice",
            "23/04/2024",
            "Catriona Fairbairn",
            "7012345",
        ],
        [
            "25 mm pedunculated polyp",
            "descending colon",
            "Diverticular disease of the sigmoid colon",
            "C3 polyp",
            "refer for colonoscopy",
        ],
    ),
    (
        "patient_name",
        "Southern Cross Imaging, Level 2, 45 Flinders Lane, Melbourne VIC 3000\nPatient: Ms Kylie Tran-Dawson  "
        "URN: 2201948  Medicare: 4123 56789 1\nReferring Doctor: Dr Nikhil Varma (Provider No. 2445671B)\n"
        "CT BRAIN: Ring-enhancing lesion 2.3 cm in the left parietal lobe with surrounding vasogenic oedema. "
        "Differential includes abscess and metastasis.\nDr Hamish O'Keefe-Lowe FRANZCR",
        [
            "Southern Cross Imaging",
            "Level 2, 45 Flinders Lane, Melbourne VIC 3000",
            "Kylie Tran-Dawson",
            "2201948",
            "4123 56789 1",
            "Nikhil Varma",
            "2445671B",
            "Hamish O'Keefe-Lowe",
        ],
        [
            "Ring-enhancing lesion 2.3 cm",
            "left parietal lobe",
            "vasogenic oedema",
            "abscess and metastasis",
        ],
    ),
    (
        "patient_name",
        "SHREE SAI DIAGNOSTIC CENTRE, Near Railway Station, Nashik - 422101\nPatient Name: Mrs. Sunita Deshpande   "
        "Age/Sex: 45 Y/F   Ref. By: Dr. Prakash Kulkarni, MS   Date: 14/03/2024   Reg No: SSD/24/3391\n"
        "USG WHOLE ABDOMEN\nLiver: normal in size (13.8 cm) and echotexture. GB: multiple calculi, largest 14 mm. "
        "CBD 5 mm.\nIMPRESSION: Cholelithiasis.\nDr. Meenakshi Iyer, DMRD\nConsultant Radiologist\n"
        "(This report is not valid for medico-legal purposes)",
        [
            "SHREE SAI DIAGNOSTIC CENTRE",
            "Near Railway Station, Nashik - 422101",
            "Sunita Deshpande",
            "Prakash Kulkarni",
            "14/03/2024",
            "SSD/24/3391",
            "Meenakshi Iyer",
        ],
        ["45 Y/F", "13.8 cm", "multiple calculi", "14 mm", "CBD 5 mm", "Cholelithiasis"],
    ),
    (
        "patient_name",
        "The Ottawa Hospital - Civic Campus\nPatient: BOUCHARD, Jean-François  HCN: 5584-219-803-HK  MRN: C0448123\n"
        "Requesting: Dr. Amélie Gagnon-Roy\nCT ABDOMEN/PELVIS: Acute sigmoid diverticulitis with a 2.5 cm "
        "pericolic abscess. No free air.\nDictated by: Dr. Farid Haddad  Transcribed: 03/14/2024 /jgb",
        [
            "The Ottawa Hospital - Civic Campus",
            "BOUCHARD, Jean-François",
            "5584-219-803-HK",
            "C0448123",
            "Amélie Gagnon-Roy",
            "Farid Haddad",
            "03/14/2024",
            "jgb",
        ],
        ["Acute sigmoid diverticulitis", "2.5 cm pericolic abscess", "No free air"],
    ),
    (
        "patient_name",
        "MSH|^~\\&|RADIS|SMH^St Michael's Hospital|EPIC|UHN|20240314153012||ORU^R01|MSG00087123|P|2.3\n"
        "PID|1||M4482910^^^SMH^MR||LEE^SEO-YEON^^^^^L||19620418|F|||35 Bloor St E^^Toronto^ON^M4W 3G7||"
        "(416)555-0139\nOBR|1|ORD772201|ACC9920318|CTHEAD^CT HEAD WO CONTRAST|||20240314150200|||||||||"
        "DOC123^NAIDOO^KEVIN^^^DR\nOBX|1|TX|IMP||No acute intracranial abnormality. Mild chronic "
        "microangiopathic change.||||||F",
        [
            "SMH",
            "St Michael's Hospital",
            "UHN",
            "20240314153012",
            "M4482910",
            "LEE",
            "SEO-YEON",
            "19620418",
            "35 Bloor St E",
            "Toronto",
            "M4W 3G7",
            "(416)555-0139",
            "ORD772201",
            "ACC9920318",
            "20240314150200",
            "DOC123",
            "NAIDOO",
            "KEVIN",
        ],
        [
            "CT HEAD WO CONTRAST",
            "No acute intracranial abnormality",
            "Mild chronic microangiopathic change",
        ],
    ),
    (
        "patient_name",
        "RADIOLOGY REPORT ***FINAL***\nPT: HOLLOWAY,MARGARET E   MR#: 0229381   DOB: 06/30/1933\n"
        "REF MD: J KAPOOR\nEXAM: 03/14/24 XR CHEST PORT 1V\nHX: SOB\nFINDINGS: INTERVAL INCREASE IN BILATERAL "
        "PLEURAL EFFUSIONS, R>L. PULMONARY VASCULAR CONGESTION. PICC TIP IN SVC.\nIMP: CHF.\n"
        "RAD: T.R. OYELOWO MD /DICT 03/14/24 1522 /TR 03/14/24 1604 /JS",
        [
            "HOLLOWAY,MARGARET E",
            "0229381",
            "06/30/1933",
            "J KAPOOR",
            "03/14/24",
            "T.R. OYELOWO",
            "/JS",
        ],
        [
            "XR CHEST PORT 1V",
            "INTERVAL INCREASE IN BILATERAL PLEURAL EFFUSIONS",
            "R>L",
            "PULMONARY VASCULAR CONGESTION",
            "PICC TIP IN SVC",
            "CHF",
        ],
    ),
    (
        "patient_name",
        "this is dr amal haddad dictating a ct abdomen pelvis on patient leticia ramos-ocampo spelled r-a-m-o-s "
        "dash o-c-a-m-p-o medical record number 4 4 1 9 0 2 7 date of service march fourteenth findings colon um "
        "there is a 4 point 2 centimeter mass in the cecum new paragraph impression cecal mass concerning for "
        "malignancy end of dictation",
        [
            "amal haddad",
            "leticia ramos-ocampo",
            "r-a-m-o-s dash o-c-a-m-p-o",
            "4 4 1 9 0 2 7",
            "march fourteenth",
        ],
        ["4 point 2 centimeter mass", "in the cecum", "cecal mass concerning for malignancy"],
    ),
    (
        "patient_name",
        "EXAM: MRI BRAIN W/WO\nPATIENT: Thabo Mokoena-Dlamini   DOB: 1978-09-17   MRN: ZA-55120-8\n"
        "HISTORY: 45M, new-onset seizure.\nFINDINGS: 3.8 cm heterogeneously enhancing mass in the right "
        "temporal lobe with central necrosis and 6 mm midline shift.\nIMPRESSION: Findings favor high-grade "
        "glioma.\nDiscussed with Dr. Naledi Khumalo (neurosurgery) at 10:20.",
        ["Thabo Mokoena-Dlamini", "1978-09-17", "ZA-55120-8", "Naledi Khumalo"],
        [
            "45M",
            "new-onset seizure",
            "3.8 cm",
            "right temporal lobe",
            "central necrosis",
            "6 mm midline shift",
            "high-grade glioma",
        ],
    ),
    (
        "patient_name",
        "Pt: Nasrin Farahani  Sex: F  DOB: 2/9/1966  Acc: MR0093374\nMRI breast bilateral: 2.1 cm irregular "
        "enhancing mass at 2 o'clock in the left breast with washout kinetics. BI-RADS 5.\nReader: Dr. Lucas "
        "Almeida Pereira",
        ["Nasrin Farahani", "2/9/1966", "MR0093374", "Lucas Almeida Pereira"],
        [
            "Sex: F",
            "2.1 cm irregular enhancing mass",
            "2 o'clock",
            "left breast",
            "washout kinetics",
            "BI-RADS 5",
        ],
    ),
    # ------------------------------------------------------------------
    # Clinician names
    # ------------------------------------------------------------------
    (
        "clinician_name",
        "IMPRESSION: Acute left MCA territory infarct.\nCritical result called to Dr. Hope Wells at 14:32 by "
        "telephone; read-back confirmed.",
        ["Hope Wells"],
        ["Acute left MCA territory infarct", "read-back confirmed"],
    ),
    (
        "clinician_name",
        "Free intraperitoneal air under the right hemidiaphragm, consistent with perforated viscus.\nFindings "
        "discussed with Dr. Rajesh Iyer-Menon at 09:15 by telephone.\nElectronically signed by: Priya "
        "Raghunathan, MD",
        ["Rajesh Iyer-Menon", "Priya Raghunathan"],
        ["Free intraperitoneal air", "right hemidiaphragm", "perforated viscus"],
    ),
    (
        "clinician_name",
        "No fracture or dislocation of the right ankle.\nReported by: Dr A. Ó Briain FRCR, Consultant "
        "Radiologist\nVerified: 14/03/2024",
        ["A. Ó Briain", "14/03/2024"],
        ["No fracture or dislocation", "right ankle"],
    ),
    (
        "clinician_name",
        "No evidence of deep vein thrombosis in the left lower extremity.\nDictated by: Rose Hill, M.D.\n"
        "Transcribed by: kt",
        ["Rose Hill", "kt"],
        ["No evidence of deep vein thrombosis", "left lower extremity"],
    ),
    (
        "clinician_name",
        "Resident: Kowalski, Tomasz MD\nAttending: Eleni Georgiou, MD\nI have personally reviewed the images "
        "and agree with the findings. Nondisplaced fracture of the right fifth metatarsal base (Jones fracture).",
        ["Kowalski, Tomasz", "Eleni Georgiou"],
        ["Nondisplaced fracture", "right fifth metatarsal base", "Jones fracture"],
    ),
    (
        "clinician_name",
        "Mild cardiomegaly. Pulmonary vascular congestion.\ncc: Dr. Meseret Alemu (Referring); Dr. B. Okafor (GP)",
        ["Meseret Alemu", "B. Okafor"],
        ["Mild cardiomegaly", "Pulmonary vascular congestion"],
    ),
    (
        "clinician_name",
        "Verbal report given to Sister Bernadette O'Loughlin, nurse in charge, re: NG tube malposition in the "
        "right main bronchus. Tube to be withdrawn.",
        ["Bernadette O'Loughlin"],
        ["NG tube malposition", "right main bronchus"],
    ),
    (
        "clinician_name",
        "Postoperative changes of ACDF at C5-C6 with intact hardware.\n/es/ Hiroshi Tanaka-Lowe, DO 03/14/24 1642",
        ["Hiroshi Tanaka-Lowe", "03/14/24"],
        ["ACDF", "C5-C6", "intact hardware"],
    ),
    (
        "clinician_name",
        "3.5 cm infrarenal abdominal aortic aneurysm. Results were communicated to the ordering provider, NP "
        "Sandra De la Fuente, at 11:05 on the day of the exam.",
        ["Sandra De la Fuente"],
        ["3.5 cm infrarenal abdominal aortic aneurysm"],
    ),
    (
        "clinician_name",
        "Ordering physician: MCDONALD-HUANG, GRACE\nIndication: r/o PNA\nRESULT: Patchy opacity in the left "
        "lower lobe concerning for pneumonia.",
        ["MCDONALD-HUANG, GRACE"],
        ["r/o PNA", "Patchy opacity", "left lower lobe", "concerning for pneumonia"],
    ),
    (
        "clinician_name",
        "Referrer: Mr J Whitfield-Hart, Consultant Orthopaedic Surgeon\nXR L hip: Satisfactory position of "
        "cemented hemiarthroplasty.",
        ["J Whitfield-Hart"],
        ["XR L hip", "cemented hemiarthroplasty"],
    ),
    (
        "clinician_name",
        "Thank you for referring this patient, Dr Bronwyn Kettle.\nUS right shoulder: Subacromial-subdeltoid "
        "bursitis. Intact rotator cuff.\nKind regards,\nDr Liam O'Halloran\nMBBS FRANZCR",
        ["Bronwyn Kettle", "Liam O'Halloran"],
        ["US right shoulder", "Subacromial-subdeltoid bursitis", "Intact rotator cuff"],
    ),
    (
        "clinician_name",
        "Impression: Grade II fatty liver.\nReported by: Dr. Ananya Chatterjee, MD (Radiodiagnosis), Reg. No. "
        "WBMC 61234",
        ["Ananya Chatterjee", "WBMC 61234"],
        ["Grade II fatty liver"],
    ),
    (
        "clinician_name",
        "No acute fracture. Degenerative disc disease at C6-C7.\nInterpreted by: Dr. Marc-André Tremblay, "
        "FRCPC\nCC: Dr. Nadia Boucher (family physician)",
        ["Marc-André Tremblay", "Nadia Boucher"],
        ["No acute fracture", "Degenerative disc disease", "C6-C7"],
    ),
    (
        "clinician_name",
        "d/w dr patel in ED @ 0215, pt to go to OR for ruptured appy w/ 4 cm abscess.",
        ["patel"],
        ["ruptured appy", "4 cm abscess"],
    ),
    (
        "clinician_name",
        "Sonographer: Amira H.  Comments: Pt unable to tolerate full bladder. Limited transabdominal views; TV "
        "US performed with consent, chaperone R. Dhillon. Endometrial thickness 4 mm.",
        ["Amira H.", "R. Dhillon"],
        ["full bladder", "Limited transabdominal views", "Endometrial thickness 4 mm"],
    ),
    (
        "clinician_name",
        "Type II endoleak from a lumbar artery. Discussed with Dr. Grant Fields (vascular surgery) who will "
        "review the patient.",
        ["Grant Fields"],
        ["Type II endoleak", "lumbar artery"],
    ),
    (
        "clinician_name",
        "Attending radiologist: Dr. Victoria Paris\nHip US: Bilateral hips normal, alpha angles 64 and 66 "
        "degrees. Graf type I.",
        ["Victoria Paris"],
        ["alpha angles 64 and 66 degrees", "Graf type I"],
    ),
    (
        "clinician_name",
        "ER physician Dr. Chase Banks notified of large right pneumothorax with mediastinal shift.",
        ["Chase Banks"],
        ["large right pneumothorax", "mediastinal shift"],
    ),
    (
        "clinician_name",
        "Left-sided pleural effusion with underlying collapse.\nSigned: Olumide Bankole-Ajayi, MBBS, FWACS "
        "(Radiology) - Lagos University Teaching Hospital",
        ["Olumide Bankole-Ajayi", "Lagos University Teaching Hospital"],
        ["Left-sided pleural effusion", "underlying collapse"],
    ),
    (
        "clinician_name",
        "Preliminary read by Dr. Lindqvist (resident) concurred with by Dr. Sigrún Jónsdóttir. Hemorrhagic "
        "contusion in the right frontal lobe, 1.6 cm.",
        ["Lindqvist", "Sigrún Jónsdóttir"],
        ["Hemorrhagic contusion", "right frontal lobe", "1.6 cm"],
    ),
    (
        "clinician_name",
        "Procedure performed by Dr. Farhad Moradi-Esfahani assisted by Dr. Li Na. Ultrasound-guided "
        "paracentesis yielding 4.2 L of straw-colored fluid.",
        ["Farhad Moradi-Esfahani", "Dr. Li Na"],
        ["Ultrasound-guided paracentesis", "4.2 L", "straw-colored fluid"],
    ),
    (
        "clinician_name",
        "Severe LAD stenosis >70% on CTCA, CAD-RADS 4A. Findings relayed to cardiology fellow Dr. Oyelaran at "
        "16:48.",
        ["Oyelaran"],
        ["Severe LAD stenosis", ">70%", "CAD-RADS 4A"],
    ),
    (
        "clinician_name",
        "PRELIMINARY REPORT (overnight teleradiology) - Read by: Anjali Krishnamurthy MD\nNo acute "
        "intracranial process.\nFinal report to follow from Dr Tobias Engström.",
        ["Anjali Krishnamurthy", "Tobias Engström"],
        ["No acute intracranial process"],
    ),
    (
        "clinician_name",
        "Case reviewed at MDT with Prof. Ahmed El-Sayed and Mr. Hamish McTavish (colorectal). Low rectal "
        "tumour, mrT3c N1, CRM threatened at 0.8 mm.",
        ["Ahmed El-Sayed", "Hamish McTavish"],
        ["Low rectal tumour", "mrT3c N1", "CRM threatened", "0.8 mm"],
    ),
    (
        "clinician_name",
        "Mild bibasilar atelectasis.\nDictated but not read. JRM/lsw  D: 03/15/2024  T: 03/16/2024",
        ["JRM", "lsw", "03/15/2024", "03/16/2024"],
        ["Mild bibasilar atelectasis"],
    ),
    (
        "clinician_name",
        "Pneumoperitoneum. Report called to Ms. Dawn Bishop-Reyes RN at 22:10 per Dr. Ugo Nnamdi.",
        ["Dawn Bishop-Reyes", "Ugo Nnamdi"],
        ["Pneumoperitoneum"],
    ),
    (
        "clinician_name",
        "Fluoroscopy time 2.4 min, DAP 12.3 Gy·cm². Operator: Dr. Stefan Nowak-Kowalczyk. No complications.",
        ["Stefan Nowak-Kowalczyk"],
        ["Fluoroscopy time 2.4 min", "DAP 12.3 Gy·cm²", "No complications"],
    ),
    (
        "clinician_name",
        "Informe: Dr. Jorge Luis Ramírez de Arellano\nFindings: Moderate pericardial effusion measuring 1.8 cm "
        "posteriorly, without tamponade physiology.",
        ["Jorge Luis Ramírez de Arellano"],
        ["Moderate pericardial effusion", "1.8 cm", "without tamponade physiology"],
    ),
    (
        "clinician_name",
        "IMPRESSION: Small bowel obstruction with transition point in the right lower quadrant.\n"
        "Electronically signed by ALEKSANDR IVANOV-PETROV MD on 2023-11-02 at 07:44:12 EST",
        ["ALEKSANDR IVANOV-PETROV", "2023-11-02"],
        ["Small bowel obstruction", "transition point", "right lower quadrant"],
    ),
    (
        "clinician_name",
        "I, Dr. Hannah Goldberg, have reviewed the resident's preliminary interpretation and agree. "
        "Osteomyelitis of the left first metatarsal head.",
        ["Hannah Goldberg"],
        ["Osteomyelitis", "left first metatarsal head"],
    ),
    (
        "clinician_name",
        "Referring: Dr. Bui Thi Thu Ha, Internal Medicine. HIDA scan: non-visualization of the gallbladder at "
        "4 hours, consistent with acute cholecystitis.",
        ["Bui Thi Thu Ha"],
        ["non-visualization of the gallbladder", "4 hours", "acute cholecystitis"],
    ),
    (
        "clinician_name",
        "Hyperdense right MCA sign. Discussed with Dr. Park Ji-yeon (neurology) at 03:20; tPA decision "
        "deferred to stroke team.",
        ["Park Ji-yeon"],
        ["Hyperdense right MCA sign", "tPA"],
    ),
    (
        "clinician_name",
        "Sonographic Murphy sign was positive, as confirmed by Dr. Colm Murphy at the bedside. Gallbladder wall "
        "thickened to 6 mm with pericholecystic fluid.",
        ["Colm Murphy"],
        ["Sonographic Murphy sign", "6 mm", "pericholecystic fluid"],
    ),
    (
        "clinician_name",
        "Dr. Harrison (respiratory) requested comparison with the childhood films. Harrison sulcus noted "
        "bilaterally, stable.",
        ["Dr. Harrison"],
        ["Harrison sulcus", "bilaterally, stable"],
    ),
    (
        "clinician_name",
        "Radiologist: Dr. Adaeze Nwachukwu-Hart | Radiographer: T. Mbeki | Contrast: Omnipaque 350, 80 mL",
        ["Adaeze Nwachukwu-Hart", "T. Mbeki"],
        ["Omnipaque 350", "80 mL"],
    ),
    (
        "clinician_name",
        "Second opinion requested by Prof. Dr. med. Klaus-Dieter Müller-Lüdenscheidt. Findings consistent with "
        "sarcoidosis stage II.",
        ["Klaus-Dieter Müller-Lüdenscheidt"],
        ["sarcoidosis stage II"],
    ),
    ("clinician_name", "Wet read by rad res DL: no PTX. Final by AMF.", ["DL", "AMF"], ["no PTX"]),
    (
        "clinician_name",
        "Consulting surgeon Mr. Rhys ap Gruffydd reviewed the images with the reporting radiologist. "
        "Perforated sigmoid diverticulitis with 3 cm pericolic abscess.",
        ["Rhys ap Gruffydd"],
        ["Perforated sigmoid diverticulitis", "3 cm pericolic abscess"],
    ),
    (
        "clinician_name",
        "Obstructed infected right kidney with 7 mm proximal ureteric stone. Discussed with the on-call urology "
        "registrar (Dr. Tunde Bello, bleep 2231) at 01:40.",
        ["Tunde Bello", "2231"],
        ["Obstructed infected right kidney", "7 mm proximal ureteric stone"],
    ),
    (
        "clinician_name",
        "Supervising physician: Lakshmi Narayanan Venkataraman, MD, DNB. Interventional procedure: right PCN "
        "placement, 8 Fr pigtail.",
        ["Lakshmi Narayanan Venkataraman"],
        ["right PCN placement", "8 Fr pigtail"],
    ),
    (
        "clinician_name",
        "Dr. April May read the prior MR; today's exam read by Dr. Dmitriy Sokolov. Interval increase in the "
        "right frontal glioma, now 4.1 cm.",
        ["April May", "Dmitriy Sokolov"],
        ["Interval increase", "right frontal glioma", "4.1 cm"],
    ),
    (
        "clinician_name",
        "Acute appendicitis, appendix 9 mm. Findings were discussed with Dr. Ng by phone at 15:55.",
        ["Dr. Ng"],
        ["Acute appendicitis", "appendix 9 mm"],
    ),
    (
        "clinician_name",
        "Breast imaging fellow: Dr. Mercy Owusu-Ansah; attending: Dr. Faith Hall. Irregular 1.3 cm mass at "
        "10 o'clock, 4 cm from the nipple, BI-RADS 4C.",
        ["Mercy Owusu-Ansah", "Faith Hall"],
        ["Irregular 1.3 cm mass", "10 o'clock", "4 cm from the nipple", "BI-RADS 4C"],
    ),
    (
        "clinician_name",
        "CT-guided biopsy consent obtained by Dr. Sébastien Lefebvre-Côté. Target lesion in segment 6 of the "
        "liver, 2.2 cm.",
        ["Sébastien Lefebvre-Côté"],
        ["segment 6", "2.2 cm"],
    ),
    (
        "clinician_name",
        "Thank you Dr. Mahmoud Abdel-Rahman for this referral. MRCP: no choledocholithiasis. Pancreas divisum.",
        ["Mahmoud Abdel-Rahman"],
        ["MRCP", "no choledocholithiasis", "Pancreas divisum"],
    ),
    (
        "clinician_name",
        "ADDENDUM (03/15/2024): After discussion with Dr. Oluwadamilare Fashola, the previously described "
        "'mass' in the right lobe of the liver represents focal fatty sparing adjacent to the gallbladder "
        "fossa. No further imaging required.\nAddendum signed by: Dr. Ingeborg Halvorsen-Lie",
        ["03/15/2024", "Oluwadamilare Fashola", "Ingeborg Halvorsen-Lie"],
        ["right lobe of the liver", "focal fatty sparing", "gallbladder fossa"],
    ),
    (
        "clinician_name",
        "reviewed w/ dr. nguyen-baptiste (ir) - ok for drain placement tomorrow. 6 cm multiloculated "
        "collection in the left paracolic gutter.",
        ["nguyen-baptiste"],
        ["6 cm multiloculated collection", "left paracolic gutter"],
    ),
    (
        "clinician_name",
        "Electronically Signed By: Dr. Kwabena Asamoah-Boateng, Consultant Radiologist, Korle Bu Teaching "
        "Hospital\nImpression: Sickle cell related avascular necrosis of the left femoral head.",
        ["Kwabena Asamoah-Boateng", "Korle Bu Teaching Hospital"],
        ["avascular necrosis", "left femoral head"],
    ),
    (
        "clinician_name",
        "Report verified by Dr MacGillivray-Singh. Comparison with prior made by Dr Ó Fearghail. Unchanged "
        "3 mm right lower lobe nodule.",
        ["MacGillivray-Singh", "Ó Fearghail"],
        ["Unchanged", "3 mm right lower lobe nodule"],
    ),
    (
        "clinician_name",
        "ORDERING: STONE, JAMES R (PCP)  ATTENDING RAD: DE LA ROSA, PILAR\nCT KUB: 3 MM LEFT UVJ STONE.",
        ["STONE, JAMES R", "DE LA ROSA, PILAR"],
        ["3 MM LEFT UVJ STONE"],
    ),
    (
        "clinician_name",
        "Ward round: Dr Hayashi (neurology) and Dr Adeyemi (ICU) were shown the images. Diffuse axonal injury "
        "at the grey-white junction and splenium.",
        ["Hayashi", "Adeyemi"],
        ["Diffuse axonal injury", "grey-white junction", "splenium"],
    ),
    # ------------------------------------------------------------------
    # Relatives / companions
    # ------------------------------------------------------------------
    (
        "relative_name",
        "History obtained from the patient's daughter, Lucinda Abernathy, who reports a fall 2 days ago. XR "
        "right hip: intertrochanteric fracture.",
        ["Lucinda Abernathy"],
        ["fall 2 days ago", "right hip", "intertrochanteric fracture"],
    ),
    (
        "relative_name",
        "Patient accompanied by husband (Rashid Qureshi) who provided interpretation. US pelvis: 7-week "
        "intrauterine gestation with cardiac activity, CRL 11 mm.",
        ["Rashid Qureshi"],
        ["7-week intrauterine gestation", "cardiac activity", "CRL 11 mm"],
    ),
    (
        "relative_name",
        "Pediatric: Mother, Thanh Huong Le, holding the infant during the exam. Skeletal survey: no fractures "
        "identified.",
        ["Thanh Huong Le"],
        ["Skeletal survey", "no fractures identified"],
    ),
    (
        "relative_name",
        "NOK: Giuseppe Russo (son) 0412 555 781. CT head: no acute change from 3 days ago.",
        ["Giuseppe Russo", "0412 555 781"],
        ["no acute change", "3 days ago"],
    ),
    (
        "relative_name",
        "Family history: brother Demetrios Kallas diagnosed with AAA at 60. Screening US: aorta 2.6 cm, normal "
        "caliber.",
        ["Demetrios Kallas"],
        ["AAA", "aorta 2.6 cm", "normal caliber"],
    ),
    (
        "relative_name",
        "Consent signed by guardian Mrs. Oyinkansola Adebayo-Williams for sedated MRI brain. Normal "
        "myelination for age.",
        ["Oyinkansola Adebayo-Williams"],
        ["sedated MRI brain", "Normal myelination for age"],
    ),
    (
        "relative_name",
        "Wife Brigid (tel 087 123 4567) asked that results go to the GP. Stable appearance of the left renal "
        "cyst.",
        ["Brigid", "087 123 4567"],
        ["Stable appearance", "left renal cyst"],
    ),
    (
        "relative_name",
        "Baby boy of Zainab Mohammed-Yusuf, 2 days old. Cranial US: grade I germinal matrix hemorrhage on the "
        "left.",
        ["Zainab Mohammed-Yusuf"],
        ["Baby boy", "2 days old", "grade I germinal matrix hemorrhage", "on the left"],
    ),
    (
        "relative_name",
        "Twin A (mother: Svetlana Kuznetsova). Abdominal radiograph: dilated bowel loops with pneumatosis "
        "intestinalis, concerning for NEC.",
        ["Svetlana Kuznetsova"],
        ["Twin A", "dilated bowel loops", "pneumatosis intestinalis", "NEC"],
    ),
    (
        "relative_name",
        "Interpreter not required; pt's granddaughter mei lin zhou translated. CXR: hyperinflated lungs "
        "consistent with COPD.",
        ["mei lin zhou"],
        ["hyperinflated lungs", "COPD"],
    ),
    (
        "relative_name",
        "Collateral from partner, Jamie O'Connell-Ruiz: pt found down, unknown downtime. CT head: diffuse "
        "cerebral edema with loss of grey-white differentiation.",
        ["Jamie O'Connell-Ruiz"],
        ["diffuse cerebral edema", "loss of grey-white differentiation"],
    ),
    (
        "relative_name",
        "Father (Babajide Ogunleye) reports the child swallowed a coin. AXR: round radiopaque foreign body "
        "projecting over the stomach.",
        ["Babajide Ogunleye"],
        ["round radiopaque foreign body", "over the stomach"],
    ),
    (
        "relative_name",
        "Pt's sister Dr. Farzaneh Karimi (a physician at another hospital) requested copies. No interval change "
        "in the 5 mm pituitary microadenoma.",
        ["Farzaneh Karimi"],
        ["No interval change", "5 mm pituitary microadenoma"],
    ),
    # ------------------------------------------------------------------
    # Medical record numbers and similar
    # ------------------------------------------------------------------
    (
        "mrn",
        "MRN: 00482913\nEXAM: CT ABDOMEN/PELVIS W CONTRAST\nFINDINGS: 3.2 cm enhancing mass in the upper pole "
        "of the left kidney, concerning for RCC.",
        ["00482913"],
        ["3.2 cm", "enhancing mass", "upper pole of the left kidney", "RCC"],
    ),
    (
        "mrn",
        "Pt MRN#4471902 - XR chest: NG tube at 45 cm, tip below the diaphragm.",
        ["4471902"],
        ["NG tube at 45 cm", "below the diaphragm"],
    ),
    (
        "mrn",
        "Med Rec No. 2210-558-3\nPortable abdomen: Nonobstructive bowel gas pattern.",
        ["2210-558-3"],
        ["Nonobstructive bowel gas pattern"],
    ),
    (
        "mrn",
        "URN: 3349821   Hospital: The Alfred\nCT pulmonary angiogram: Filling defects in the right lower lobe "
        "segmental arteries.",
        ["3349821", "The Alfred"],
        ["Filling defects", "right lower lobe segmental arteries"],
    ),
    (
        "mrn",
        "Hospital No: K1234567  NHS No. 943 476 5919\nUS Neck: Reactive-appearing cervical lymph nodes "
        "bilaterally, largest 9 mm short axis at level II.",
        ["K1234567", "943 476 5919"],
        ["Reactive-appearing cervical lymph nodes", "9 mm short axis", "level II"],
    ),
    (
        "mrn",
        "CHI: 0101651234 (NHS Scotland). MR knee: ACL rupture with bone bruising of the lateral femoral condyle.",
        ["0101651234"],
        ["ACL rupture", "bone bruising", "lateral femoral condyle"],
    ),
    (
        "mrn",
        "UHID: AIIMS/2023/004512  IPD No: 23-18842\nCECT Abdomen: Acute necrotizing pancreatitis, CTSI 8.",
        ["AIIMS/2023/004512", "23-18842"],
        ["Acute necrotizing pancreatitis", "CTSI 8"],
    ),
    ("mrn", "patient id 88-22-91 ct head w/o: no bleed", ["88-22-91"], ["no bleed"]),
    (
        "mrn",
        "PID: 77129034 / Enc: 5512340987\nXR Pelvis AP: Bilateral hip osteoarthritis, worse on the right.",
        ["77129034", "5512340987"],
        ["Bilateral hip osteoarthritis", "worse on the right"],
    ),
    (
        "mrn",
        "Unit number 1F-448-02X; MRI cervical spine: cord signal abnormality at C4 consistent with "
        "myelomalacia.",
        ["1F-448-02X"],
        ["cord signal abnormality", "C4", "myelomalacia"],
    ),
    (
        "mrn",
        "Medical Record Number 5-004-71-22. Nuclear medicine bone scan: multiple foci of increased uptake in the "
        "thoracic spine at T4, T7 and T10, consistent with metastases.",
        ["5-004-71-22"],
        ["multiple foci of increased uptake", "T4, T7 and T10", "metastases"],
    ),
    (
        "mrn",
        "40022917 SMITHERS,ROY XR L ANKLE 3V -- NO FX. SOFT TISSUE SWELLING LATERAL MALLEOLUS.",
        ["40022917", "SMITHERS,ROY"],
        ["XR L ANKLE 3V", "NO FX", "SOFT TISSUE SWELLING LATERAL MALLEOLUS"],
    ),
    (
        "mrn",
        "MRN 3345-0012 (prior MRN 99812 merged). Comparison with prior study under old MRN. Stable bilateral "
        "pleural plaques consistent with asbestos exposure.",
        ["3345-0012", "99812"],
        ["Stable bilateral pleural plaques", "asbestos exposure"],
    ),
    (
        "mrn",
        "E-MRN:E00927361 Pt Class: OP Exam: DEXA hip: Femoral neck T-score -1.8 (osteopenia).",
        ["E00927361"],
        ["Femoral neck T-score -1.8", "osteopenia"],
    ),
    (
        "mrn",
        "PID|||00341876^^^MAYO^MRN~445-22-1098^^^SSA^SS||HALVERSON^KARI^L||19570304|F\n"
        "OBX|2|TX|IMP||Mild hepatomegaly, 18.5 cm.||||||F",
        ["00341876", "MAYO", "445-22-1098", "HALVERSON", "KARI", "19570304"],
        ["Mild hepatomegaly", "18.5 cm"],
    ),
    (
        "mrn",
        "Reg. No. 2024/OPD/118734\nX-Ray Chest PA View: Bilateral hilar prominence. Suggest CT correlation.",
        ["2024/OPD/118734"],
        ["Bilateral hilar prominence", "CT correlation"],
    ),
    (
        "mrn",
        "Patient ID (PACS): RBH0098871. Comparison: 12 months prior. HRCT: progression of fibrosis in the lower "
        "lobes.",
        ["RBH0098871"],
        ["12 months prior", "progression of fibrosis", "lower lobes"],
    ),
    (
        "mrn",
        "MRN: 12 34 56 78\nXR forearm: Monteggia fracture-dislocation.",
        ["12 34 56 78"],
        ["Monteggia fracture-dislocation"],
    ),
    (
        "mrn",
        "Chart # 77-4412-0. Mammo dx left: 8 mm cluster of fine pleomorphic calcifications, upper outer "
        "quadrant, BI-RADS 4B.",
        ["77-4412-0"],
        ["8 mm cluster", "fine pleomorphic calcifications", "upper outer quadrant", "BI-RADS 4B"],
    ),
    (
        "mrn",
        "mrn 6613047 ct cap: no evidence of metastatic disease.",
        ["6613047"],
        ["no evidence of metastatic disease"],
    ),
    (
        "mrn",
        "Hosp #: M/19/447120 | Ward: ICU\nCXR: ETT tip 3 cm above the carina.",
        ["M/19/447120"],
        ["ETT tip 3 cm above the carina"],
    ),
    (
        "mrn",
        "Patient Identifier: MRN-0034-9921-X. CT neck: 2.4 cm necrotic left level IIa node.",
        ["0034-9921-X"],
        ["2.4 cm necrotic left level IIa node"],
    ),
    (
        "mrn",
        "Fetal MRI. Mother's MRN 2093341; fetal record 2093341-F1. Isolated mild ventriculomegaly, atrium 11 mm.",
        ["2093341", "2093341-F1"],
        ["Isolated mild ventriculomegaly", "atrium 11 mm"],
    ),
    (
        "mrn",
        "MR No.: 0055-7781 DOB: 1949-08-23 Sex: F\nMRI brain: Moderate generalized volume loss.",
        ["0055-7781", "1949-08-23"],
        ["Sex: F", "Moderate generalized volume loss"],
    ),
    (
        "mrn",
        "Image labelled with incorrect MRN (7720014 instead of 7720041); corrected by PACS team. No change in "
        "findings: left lower lobe consolidation.",
        ["7720014", "7720041"],
        ["left lower lobe consolidation"],
    ),
    (
        "mrn",
        "HOSP NO. RXH 448812 / A&E NO. 24-009912\nCT HEAD: NO ACUTE INTRACRANIAL HAEMORRHAGE.",
        ["RXH 448812", "24-009912"],
        ["NO ACUTE INTRACRANIAL HAEMORRHAGE"],
    ),
    (
        "mrn",
        "Clinic no. T-0193-552 (Tygerberg). Chest XR: right upper lobe cavity, 3 cm.",
        ["T-0193-552", "Tygerberg"],
        ["right upper lobe cavity", "3 cm"],
    ),
    # ------------------------------------------------------------------
    # Insurance / national identifiers
    # ------------------------------------------------------------------
    (
        "insurance_id",
        "Medicare No: 2951 46813 2  IRN 1\nUS Carotids: <50% stenosis of the right ICA.",
        ["2951 46813 2"],
        ["<50% stenosis", "right ICA"],
    ),
    (
        "insurance_id",
        "Medicare ID (MBI): 1EG4-TE5-MK73. Screening low-dose CT: Lung-RADS 2, continue annual screening.",
        ["1EG4-TE5-MK73"],
        ["Lung-RADS 2", "annual screening"],
    ),
    (
        "insurance_id",
        "Insurance: Blue Cross member ID XJH887200113, group 004471. MRI shoulder authorized; partial "
        "thickness infraspinatus tear.",
        ["XJH887200113", "004471"],
        ["MRI shoulder", "partial thickness infraspinatus tear"],
    ),
    (
        "insurance_id",
        "Ontario Health Card 4532-281-946-KT. CT abdomen: Diverticulosis without diverticulitis.",
        ["4532-281-946-KT"],
        ["Diverticulosis without diverticulitis"],
    ),
    (
        "insurance_id",
        "Medicaid # 88120945C. Bone age: consistent with chronological age of 9 years.",
        ["88120945C"],
        ["chronological age of 9 years"],
    ),
    (
        "national_id",
        "Aadhaar: 4521 7789 3302. X-ray knee AP/lateral: Grade 3 Kellgren-Lawrence osteoarthritis of the "
        "medial compartment.",
        ["4521 7789 3302"],
        ["Grade 3 Kellgren-Lawrence osteoarthritis", "medial compartment"],
    ),
    (
        "national_id",
        "DVA file no. QX901234. CT chest: centrilobular emphysema, upper lobe predominant.",
        ["QX901234"],
        ["centrilobular emphysema", "upper lobe predominant"],
    ),
    (
        "national_id",
        "Patient NIR 1 84 12 75 115 002 42 (French social security). MRI knee: horizontal tear of the posterior "
        "horn of the medial meniscus.",
        ["1 84 12 75 115 002 42"],
        ["horizontal tear", "posterior horn of the medial meniscus"],
    ),
    (
        "national_id",
        "NHI: ZAC4521 (NZ). XR chest: right-sided pneumothorax, 2 cm at the hilum.",
        ["ZAC4521"],
        ["right-sided pneumothorax", "2 cm at the hilum"],
    ),
    # ------------------------------------------------------------------
    # Social security numbers
    # ------------------------------------------------------------------
    (
        "ssn",
        "SSN: 512-44-8390\nCT Chest: Right middle lobe atelectasis.",
        ["512-44-8390"],
        ["Right middle lobe atelectasis"],
    ),
    (
        "ssn",
        "Social Security #: 401 22 9187 / DOB 7/4/1952 - MRI L-spine: L5-S1 grade 1 anterolisthesis.",
        ["401 22 9187", "7/4/1952"],
        ["L5-S1", "grade 1 anterolisthesis"],
    ),
    (
        "ssn",
        "SS# 498032271 (verify). XR shoulder: Hill-Sachs lesion and bony Bankart.",
        ["498032271"],
        ["Hill-Sachs lesion", "bony Bankart"],
    ),
    (
        "ssn",
        "Last 4 of SSN 7731 confirmed at registration. CT renal stone protocol: no calculi.",
        ["7731"],
        ["no calculi"],
    ),
    (
        "ssn",
        "PATIENT SOC SEC NO 233-90-1174 MAMMO SCREEN BILAT - BI-RADS 2 BENIGN",
        ["233-90-1174"],
        ["BI-RADS 2", "BENIGN"],
    ),
    (
        "ssn",
        "Pt identifiers verified (name, DOB, SSN 627 18 0453). Left kidney 11.2 cm, right 11.6 cm, no "
        "hydronephrosis.",
        ["627 18 0453"],
        ["Left kidney 11.2 cm", "right 11.6 cm", "no hydronephrosis"],
    ),
    # ------------------------------------------------------------------
    # Accession / order / study identifiers
    # ------------------------------------------------------------------
    (
        "accession",
        "Acc: A123456789  Exam: MR BRAIN W/WO\nFindings: No enhancing lesion. T2 hyperintense foci in the "
        "periventricular white matter, nonspecific.",
        ["A123456789"],
        ["No enhancing lesion", "T2 hyperintense foci", "periventricular white matter"],
    ),
    (
        "accession",
        "Accession #: RAD-2024-000123\nCT head: Chronic right frontal encephalomalacia.",
        ["RAD-2024-000123"],
        ["Chronic right frontal encephalomalacia"],
    ),
    (
        "accession",
        "ACC NO CT24-118203 / ORDER ORD-88412-7\nCT CHEST: NO PE.",
        ["CT24-118203", "ORD-88412-7"],
        ["NO PE"],
    ),
    (
        "accession",
        "Study UID: 1.2.840.113619.2.55.3.604688119.971.1710422541.337\nXR hand: erosive changes at the 2nd and "
        "3rd MCP joints.",
        ["1.2.840.113619.2.55.3.604688119.971.1710422541.337"],
        ["erosive changes", "2nd and 3rd MCP joints"],
    ),
    (
        "accession",
        "Accession 10458832 compared with accession 10221904 (outside). Stable 6 mm right lower lobe nodule.",
        ["10458832", "10221904"],
        ["Stable 6 mm right lower lobe nodule"],
    ),
    (
        "accession",
        "Exam #: XR.2023.55120 - Chest PA and lateral. Hyperexpanded lungs.",
        ["XR.2023.55120"],
        ["Chest PA and lateral", "Hyperexpanded lungs"],
    ),
    (
        "accession",
        "acc# us7781204 - limited us abdomen RUQ: no gallstones.",
        ["us7781204"],
        ["RUQ", "no gallstones"],
    ),
    (
        "accession",
        "Request number: 24R099812. Please quote this number when contacting the department. MRI prostate: "
        "PI-RADS 4 lesion in the left peripheral zone at mid-gland, 1.1 cm.",
        ["24R099812"],
        ["PI-RADS 4", "left peripheral zone", "mid-gland", "1.1 cm"],
    ),
    (
        "accession",
        "Order ID: 8832-11-0045  Accession: MG0033281\nBilateral screening mammogram. BI-RADS 0: additional "
        "imaging needed for a focal asymmetry in the right breast.",
        ["8832-11-0045", "MG0033281"],
        ["BI-RADS 0", "focal asymmetry", "right breast"],
    ),
    (
        "accession",
        "Episode number E-2203-44871. CT abdo: transient small bowel intussusception without obstruction.",
        ["E-2203-44871"],
        ["transient small bowel intussusception", "without obstruction"],
    ),
    (
        "accession",
        "ADDENDUM to report for accession 55129384: the left adrenal lesion measures 2.9 cm, not 9 cm as "
        "originally dictated.",
        ["55129384"],
        ["left adrenal lesion", "2.9 cm"],
    ),
    (
        "accession",
        "Ref: XR/24/118273/LH. Skull XR: no fracture.",
        ["XR/24/118273/LH"],
        ["no fracture"],
    ),
    (
        "accession",
        "RIS No. 2024-CT-0098123; PACS Acc. 0098123. CT sinus: mucosal thickening of the right maxillary sinus.",
        ["2024-CT-0098123", "0098123"],
        ["mucosal thickening", "right maxillary sinus"],
    ),
    (
        "accession",
        "Filler order # 71245598^RIS; Placer order # 3319007^EPIC. US renal: echogenic kidneys, medical renal "
        "disease.",
        ["71245598", "3319007"],
        ["echogenic kidneys", "medical renal disease"],
    ),
    (
        "accession",
        "ACCESSION: CR-88-2213-7  ** CORRECTED REPORT **  Right, not left, 4th rib fracture.",
        ["CR-88-2213-7"],
        ["Right, not left, 4th rib fracture"],
    ),
    (
        "accession",
        "Study ID 2024031400457 (linked exam 2024031400458). CT chest/abdomen/pelvis: no lymphadenopathy.",
        ["2024031400457", "2024031400458"],
        ["no lymphadenopathy"],
    ),
    # ------------------------------------------------------------------
    # Phone, pager, fax
    # ------------------------------------------------------------------
    (
        "phone",
        "Please call the reading room at (617) 555-0142 with questions. Mild degenerative changes of the "
        "thoracic spine.",
        ["(617) 555-0142"],
        ["Mild degenerative changes", "thoracic spine"],
    ),
    (
        "phone",
        "Referring office: 617-555-0199 ext. 4412. US thyroid: multinodular goiter, dominant right nodule "
        "2.4 cm, TI-RADS 3.",
        ["617-555-0199 ext. 4412"],
        ["multinodular goiter", "dominant right nodule", "2.4 cm", "TI-RADS 3"],
    ),
    (
        "phone",
        "Critical finding; Dr. Tesfaye paged (pager 4471), callback received at 13:02. Large left MCA infarct "
        "with hemorrhagic transformation.",
        ["Tesfaye", "4471"],
        ["Large left MCA infarct", "hemorrhagic transformation"],
    ),
    (
        "phone",
        "Contact the department on +44 20 7946 0958 to arrange follow-up CT in 3 months.",
        ["+44 20 7946 0958"],
        ["follow-up CT in 3 months"],
    ),
    (
        "phone",
        "Subcapsular splenic haematoma, grade II. For urgent queries ring 020 7946 0321 or bleep 6612 (on-call "
        "radiology SpR).",
        ["020 7946 0321", "6612"],
        ["Subcapsular splenic haematoma", "grade II"],
    ),
    (
        "phone",
        "Patient contact (mobile): 0412 345 678. Appointment for US-guided FNA of the right thyroid nodule.",
        ["0412 345 678"],
        ["US-guided FNA", "right thyroid nodule"],
    ),
    (
        "phone",
        "Results faxed to (02) 9555 1234 per GP request. Normal renal ultrasound.",
        ["(02) 9555 1234"],
        ["Normal renal ultrasound"],
    ),
    (
        "phone",
        "Mob: +91 98450 12345 | Ph: 080-2553 7788\nUSG KUB: Right renal calculus 9 mm in lower calyx.",
        ["+91 98450 12345", "080-2553 7788"],
        ["Right renal calculus 9 mm", "lower calyx"],
    ),
    (
        "phone",
        "Pt can be reached at 416-555-0187 (home) or 647.555.0112 (cell). MRI pelvis: no recurrence at the "
        "surgical bed.",
        ["416-555-0187", "647.555.0112"],
        ["no recurrence", "surgical bed"],
    ),
    (
        "phone",
        "Discussed with ICU at x4-5521. Right IJ line tip in the right atrium - recommend withdrawal by 2 cm.",
        ["x4-5521"],
        ["Right IJ line", "right atrium", "2 cm"],
    ),
    (
        "phone",
        "call 555.867.5309 re: scheduling of repeat CXR in 6 weeks",
        ["555.867.5309"],
        ["repeat CXR in 6 weeks"],
    ),
    (
        "phone",
        "TEL 1-800-555-0175 EXT 22 FOR FILM LIBRARY. OUTSIDE FILMS RETURNED. NO INTERVAL CHANGE.",
        ["1-800-555-0175 EXT 22"],
        ["NO INTERVAL CHANGE"],
    ),
    (
        "phone",
        "Spoke with the patient's wife at 503 555 0166 who will bring the patient back for delayed images at "
        "24 hours.",
        ["503 555 0166"],
        ["delayed images at 24 hours"],
    ),
    (
        "phone",
        "Emergency contact: +234 803 555 1927. CT abdomen: hepatic abscess 5 cm in segment 8.",
        ["+234 803 555 1927"],
        ["hepatic abscess 5 cm", "segment 8"],
    ),
    (
        "phone",
        "Reading radiologist direct line 0161 496 0732. Left-sided PE, no RV strain.",
        ["0161 496 0732"],
        ["Left-sided PE", "no RV strain"],
    ),
    (
        "phone",
        "Pt's phone # is 07911 123456 - please text appt. Ultrasound of the scrotum: left varicocele, veins up "
        "to 3.5 mm with Valsalva.",
        ["07911 123456"],
        ["left varicocele", "3.5 mm", "Valsalva"],
    ),
    (
        "phone",
        "Teleradiology hotline +1 (312) 555-0148, option 3. No acute intracranial abnormality.",
        ["+1 (312) 555-0148"],
        ["No acute intracranial abnormality"],
    ),
    (
        "phone",
        "Fax results to 212-555-0193; phone 212-555-0194. Stable appearance of the pancreatic IPMN, 1.5 cm.",
        ["212-555-0193", "212-555-0194"],
        ["pancreatic IPMN", "1.5 cm"],
    ),
    (
        "phone",
        "Dr. Ashkan Rahimi (cell +98 912 555 4410) requested images be pushed to his PACS. No pneumothorax "
        "post-biopsy.",
        ["Ashkan Rahimi", "+98 912 555 4410"],
        ["No pneumothorax post-biopsy"],
    ),
    (
        "phone",
        "pager #: 3-2210 (Neuro IR). thrombectomy candidate: M1 occlusion on the left.",
        ["3-2210"],
        ["thrombectomy candidate", "M1 occlusion", "on the left"],
    ),
    (
        "phone",
        "PH (H) 9876 5432, (W) 03 9342 7000. CT abdomen: simple hepatic cysts.",
        ["9876 5432", "03 9342 7000"],
        ["simple hepatic cysts"],
    ),
    (
        "phone",
        "Call me on my cell, 860 555 0123, if the ultrasound shows torsion. US: normal arterial and venous flow "
        "to both testes.",
        ["860 555 0123"],
        ["normal arterial and venous flow", "both testes"],
    ),
    # ------------------------------------------------------------------
    # E-mail
    # ------------------------------------------------------------------
    (
        "email",
        "Please send the outside CD to radiology.films@stmarys-health.org.uk. CT shows resolving left lower lobe "
        "pneumonia.",
        ["radiology.films@stmarys-health.org.uk"],
        ["resolving left lower lobe pneumonia"],
    ),
    (
        "email",
        "Copy of report emailed to pt at kwame.asante1962@gmail.com as requested. No acute fracture of the left "
        "wrist.",
        ["kwame.asante1962@gmail.com"],
        ["No acute fracture", "left wrist"],
    ),
    (
        "email",
        "Referrer e-mail: j.whitfield-hart@nhs.net\nHip XR: avascular necrosis of the right femoral head, Ficat "
        "stage III.",
        ["j.whitfield-hart@nhs.net"],
        ["avascular necrosis", "right femoral head", "Ficat stage III"],
    ),
    (
        "email",
        "Questions: priya.raghunathan@apollohospitals.com | MRI brain: no restricted diffusion.",
        ["priya.raghunathan@apollohospitals.com"],
        ["no restricted diffusion"],
    ),
    (
        "email",
        "CONTACT ANANYA.C@RADIOLOGYPARTNERS.IN FOR SECOND OPINION. CT: BULKY LEFT ADRENAL 4.5 CM.",
        ["ANANYA.C@RADIOLOGYPARTNERS.IN"],
        ["BULKY LEFT ADRENAL 4.5 CM"],
    ),
    (
        "email",
        "Sent via secure mail to dr_nguyen.minh@medicalcentre.com.au on completion. US: normal liver size "
        "and echotexture.",
        ["dr_nguyen.minh@medicalcentre.com.au"],
        ["normal liver size and echotexture"],
    ),
    (
        "email",
        "The patient's mother asked that results be sent to oyinkansola.aw+kids@yahoo.co.uk. Normal voiding "
        "cystourethrogram, no reflux.",
        ["oyinkansola.aw+kids@yahoo.co.uk"],
        ["Normal voiding cystourethrogram", "no reflux"],
    ),
    (
        "email",
        "Email radreport-queries@clevelandclinic.org with accession questions. Chest CT: mild bronchiectasis in "
        "the lingula.",
        ["radreport-queries@clevelandclinic.org"],
        ["mild bronchiectasis", "lingula"],
    ),
    (
        "email",
        "From: Tomas.Lindqvist@karolinska.se\nSubject: outside images\nModerate hiatal hernia. No esophageal "
        "wall thickening.",
        ["Tomas.Lindqvist@karolinska.se"],
        ["Moderate hiatal hernia", "No esophageal wall thickening"],
    ),
    (
        "email",
        "contact me (mh.obrien@mater.ie) if the MRI cannot be done within 2 weeks. Query scaphoid fracture: not "
        "visible on initial films.",
        ["mh.obrien@mater.ie"],
        ["within 2 weeks", "scaphoid fracture", "not visible on initial films"],
    ),
    (
        "email",
        "pt emailed images from her phone (li.wen.88 at outlook dot com) - low resolution, not diagnostic.",
        ["li.wen.88 at outlook dot com"],
        ["low resolution", "not diagnostic"],
    ),
    # ------------------------------------------------------------------
    # Addresses / geographic locations
    # ------------------------------------------------------------------
    (
        "address",
        "Patient address: 1427 Maple Ridge Dr, Apt 3B, Springfield, IL 62704. CXR: no acute disease.",
        ["1427 Maple Ridge Dr, Apt 3B, Springfield, IL 62704"],
        ["no acute disease"],
    ),
    (
        "address",
        "Home: Flat 2, 17 Kingsley Road, Leeds LS6 2AB. Follow-up US in 6 weeks for the 3.1 cm right ovarian "
        "cyst.",
        ["Flat 2, 17 Kingsley Road, Leeds LS6 2AB"],
        ["6 weeks", "3.1 cm right ovarian cyst"],
    ),
    (
        "address",
        "Mailing: PO Box 4412, Bozeman, MT 59771. Outside films from Bozeman Deaconess reviewed: healed left "
        "clavicle fracture.",
        ["PO Box 4412, Bozeman, MT 59771", "Bozeman Deaconess"],
        ["healed left clavicle fracture"],
    ),
    (
        "address",
        "RR 2 Box 118, Hettinger ND 58639 - rural patient, travel 3 hours; please combine CT and US appointments. "
        "Known cirrhosis, HCC surveillance.",
        ["RR 2 Box 118, Hettinger ND 58639"],
        ["cirrhosis", "HCC surveillance"],
    ),
    (
        "address",
        "Addr: 12 Wattle St, Fitzroy VIC 3065. XR foot: fracture of the base of the 5th metatarsal.",
        ["12 Wattle St, Fitzroy VIC 3065"],
        ["fracture of the base of the 5th metatarsal"],
    ),
    (
        "address",
        "Address: Plot No. 45, Sector 21, Gurugram, Haryana 122016. HRCT temporal bone: cholesteatoma in the "
        "right attic.",
        ["Plot No. 45, Sector 21, Gurugram, Haryana 122016"],
        ["cholesteatoma", "right attic"],
    ),
    (
        "address",
        "88 rue Sainte-Catherine O, app. 1204, Montréal (QC) H3B 1A7. Mammogram: BI-RADS 3, short interval "
        "follow-up in 6 months.",
        ["88 rue Sainte-Catherine O, app. 1204, Montréal (QC) H3B 1A7"],
        ["BI-RADS 3", "short interval follow-up in 6 months"],
    ),
    (
        "address",
        "pt lives at 45 w 112th st #4c new york ny 10026, walked to ED. ct abd: sigmoid volvulus.",
        ["45 w 112th st #4c new york ny 10026"],
        ["sigmoid volvulus"],
    ),
    (
        "address",
        "Transferred from a nursing home at 300 Harbor View Terrace, Unit 12, San Diego, CA 92101. Sacral "
        "decubitus ulcer with underlying osteomyelitis of the coccyx.",
        ["300 Harbor View Terrace, Unit 12, San Diego, CA 92101"],
        ["Sacral decubitus ulcer", "osteomyelitis of the coccyx"],
    ),
    (
        "address",
        "Place of injury: junction of Ocean Avenue and 5th Street, Santa Monica. XR: left tibial plateau "
        "fracture, Schatzker II.",
        ["Ocean Avenue and 5th Street, Santa Monica"],
        ["left tibial plateau fracture", "Schatzker II"],
    ),
    (
        "address",
        "Lives alone at 'Rosebank', 3 Church Lane, Little Snoring, Norfolk NR21 0AB. Fall; XR pelvis: left pubic "
        "rami fractures.",
        ["Rosebank", "3 Church Lane, Little Snoring, Norfolk NR21 0AB"],
        ["left pubic rami fractures"],
    ),
    (
        "address",
        "Patient is from Kibera, Nairobi; TB contact. CXR: miliary nodules throughout both lungs.",
        ["Kibera, Nairobi"],
        ["TB contact", "miliary nodules", "both lungs"],
    ),
    (
        "address",
        "Home address 2210 N. Lincoln Ave, Chicago 60614 (differs from EMR, verified with patient). MRI hip: "
        "anterosuperior labral tear.",
        ["2210 N. Lincoln Ave, Chicago 60614"],
        ["anterosuperior labral tear"],
    ),
    (
        "address",
        "Hse 14, Rd 7, Dhanmondi, Dhaka-1205. USG: hepatomegaly 17 cm.",
        ["Hse 14, Rd 7, Dhanmondi, Dhaka-1205"],
        ["hepatomegaly 17 cm"],
    ),
    (
        "address",
        "Apt. 1407, 250 Yonge St., Toronto, ON M5B 2L7. CT C-spine: no fracture or malalignment.",
        ["Apt. 1407, 250 Yonge St., Toronto, ON M5B 2L7"],
        ["no fracture or malalignment"],
    ),
    (
        "address",
        "Postcode: SW3 6NP. Home visit X-ray (mobile unit). Chest: cardiomegaly.",
        ["SW3 6NP"],
        ["cardiomegaly"],
    ),
    (
        "address",
        "Pt is homeless, usually stays at the shelter at 411 Pine Street, Seattle. CXR: right upper lobe "
        "cavitary lesion.",
        ["411 Pine Street, Seattle"],
        ["right upper lobe cavitary lesion"],
    ),
    (
        "address",
        "Residence: 7 Rue Hassan II, Casablanca 20000, Morocco. CT: hydatid cyst of the liver, 6 cm.",
        ["7 Rue Hassan II, Casablanca 20000"],
        ["hydatid cyst of the liver", "6 cm"],
    ),
    (
        "address",
        "Lot 22 Bungendore Rd, Queanbeyan NSW 2620. Farm injury. XR hand: open fracture of the 4th proximal "
        "phalanx.",
        ["Lot 22 Bungendore Rd, Queanbeyan NSW 2620"],
        ["open fracture", "4th proximal phalanx"],
    ),
    (
        "address",
        "Returned from Fort Myers (zip 33901) last month. CT chest: multifocal ground-glass opacities.",
        ["Fort Myers", "33901"],
        ["last month", "multifocal ground-glass opacities"],
    ),
    (
        "address",
        "1500 RTE 9W, HIGHLAND FALLS NY 10928 ** PT ADDRESS UPDATED ** XR L-SPINE: L2 COMPRESSION DEFORMITY, "
        "CHRONIC.",
        ["1500 RTE 9W, HIGHLAND FALLS NY 10928"],
        ["L2 COMPRESSION DEFORMITY", "CHRONIC"],
    ),
    (
        "address",
        "Patient lives on a farm near Gundagai and cannot easily return; please double-read today. XR chest: "
        "no consolidation.",
        ["Gundagai"],
        ["no consolidation"],
    ),
    # ------------------------------------------------------------------
    # Institutions
    # ------------------------------------------------------------------
    (
        "institution",
        "Comparison: outside films from Johns Hopkins dated 3/14/24. Interval enlargement of the right hilar "
        "mass.",
        ["Johns Hopkins", "3/14/24"],
        ["Interval enlargement", "right hilar mass"],
    ),
    (
        "institution",
        "Patient transferred from Mass General for higher level of care. CTA: ruptured AAA.",
        ["Mass General"],
        ["ruptured AAA"],
    ),
    (
        "institution",
        "Prior MRI performed at St Mary's (Paddington) was unavailable for comparison. Multiple sclerosis "
        "plaques, some enhancing.",
        ["St Mary's", "Paddington"],
        ["Multiple sclerosis plaques", "some enhancing"],
    ),
    (
        "institution",
        "Referred by the adult congenital heart team at Royal Brompton. Cardiac MRI: repaired tetralogy with "
        "severe pulmonary regurgitation, RVEDVi 165 mL/m2.",
        ["Royal Brompton"],
        ["repaired tetralogy", "severe pulmonary regurgitation", "RVEDVi 165 mL/m2"],
    ),
    (
        "institution",
        "Outside CT from Mayo (Rochester) dated 2023.11.02 was reviewed. Stable 9 mm pancreatic cyst.",
        ["Mayo", "Rochester", "2023.11.02"],
        ["Stable 9 mm pancreatic cyst"],
    ),
    (
        "institution",
        "CLEVELAND CLINIC ABU DHABI - DEPARTMENT OF IMAGING\nCT Chest: bilateral apical pleural thickening.",
        ["CLEVELAND CLINIC ABU DHABI"],
        ["bilateral apical pleural thickening"],
    ),
    (
        "institution",
        "Sunnybrook read: no intracranial hemorrhage. Patient to be repatriated to Scarborough General.",
        ["Sunnybrook", "Scarborough General"],
        ["no intracranial hemorrhage"],
    ),
    (
        "institution",
        "Images obtained at RPA Newtown campus; compared with Westmead study of 14 March 2024. Stable "
        "post-operative appearance of the left mastoid.",
        ["RPA Newtown", "Westmead", "14 March 2024"],
        ["Stable post-operative appearance", "left mastoid"],
    ),
    (
        "institution",
        "Previous imaging at AIIMS, New Delhi showed similar findings. MRI: tuberculous spondylodiscitis at "
        "T10-T11 with paraspinal abscess.",
        ["AIIMS, New Delhi"],
        ["tuberculous spondylodiscitis", "T10-T11", "paraspinal abscess"],
    ),
    (
        "institution",
        "Transferred from Christian Medical College, Vellore. CT: bilateral adrenal enlargement.",
        ["Christian Medical College, Vellore"],
        ["bilateral adrenal enlargement"],
    ),
    (
        "institution",
        "Comparison: Addenbrooke's CT 2 years ago. Slow growth of the left vestibular schwannoma, now 14 mm.",
        ["Addenbrooke's"],
        ["2 years ago", "left vestibular schwannoma", "14 mm"],
    ),
    (
        "institution",
        "Pt had her prior biopsy at Sloan Kettering. Post-biopsy clip in the left breast at 2 o'clock.",
        ["Sloan Kettering"],
        ["Post-biopsy clip", "left breast", "2 o'clock"],
    ),
    (
        "institution",
        "Outside read from Beth Israel Deaconess: 'no acute process'. We disagree: subtle right apical "
        "pneumothorax.",
        ["Beth Israel Deaconess"],
        ["subtle right apical pneumothorax"],
    ),
    (
        "institution",
        "Patient is followed at Guy's and St Thomas' for sickle cell disease. Bone infarcts in both humeral "
        "heads.",
        ["Guy's and St Thomas'"],
        ["sickle cell disease", "Bone infarcts", "both humeral heads"],
    ),
    (
        "institution",
        "Films brought from Groote Schuur. CXR: healed TB with right upper lobe volume loss.",
        ["Groote Schuur"],
        ["healed TB", "right upper lobe volume loss"],
    ),
    (
        "institution",
        "Mount Sinai Queens - MRI knee: medial meniscus posterior horn tear.",
        ["Mount Sinai Queens"],
        ["medial meniscus posterior horn tear"],
    ),
    (
        "institution",
        "Outside study: Kaiser Sunnyside, 04/02/2023. Left renal mass increased from 2.1 to 2.9 cm.",
        ["Kaiser Sunnyside", "04/02/2023"],
        ["Left renal mass", "2.1 to 2.9 cm"],
    ),
    (
        "institution",
        "Transferred from The Alfred trauma centre; comparison with their CT. Splenic laceration, AAST grade III.",
        ["The Alfred"],
        ["Splenic laceration", "AAST grade III"],
    ),
    (
        "institution",
        "Images from Toronto Western were imported into PACS. Chiari I malformation with tonsillar descent 8 mm.",
        ["Toronto Western"],
        ["Chiari I malformation", "tonsillar descent 8 mm"],
    ),
    (
        "institution",
        "Comparison: outside films from Mercy Radiology Group (Cedar Rapids) dated 14-Mar-2024. Healing left "
        "distal radius fracture.",
        ["Mercy Radiology Group", "Cedar Rapids", "14-Mar-2024"],
        ["Healing left distal radius fracture"],
    ),
    (
        "institution",
        "Apollo Hospitals, Greams Road, Chennai - Department of Radiology. HRCT: traction bronchiectasis in "
        "both lower lobes.",
        ["Apollo Hospitals", "Greams Road, Chennai"],
        ["traction bronchiectasis", "both lower lobes"],
    ),
    (
        "institution",
        "Pt seen previously at Hopkins Bayview ED. CT: pancreatic head mass with double duct sign.",
        ["Hopkins Bayview"],
        ["pancreatic head mass", "double duct sign"],
    ),
    (
        "institution",
        "Performed at Lakeside Imaging. Comparison: St. Vincent's Fitzroy study. Resolved right middle lobe "
        "consolidation.",
        ["Lakeside Imaging", "St. Vincent's Fitzroy"],
        ["Resolved right middle lobe consolidation"],
    ),
    (
        "institution",
        "Comparison: CT from Karolinska dated 2022-06-30. Slight increase in the lingular ground-glass nodule to "
        "8 mm.",
        ["Karolinska", "2022-06-30"],
        ["lingular ground-glass nodule", "8 mm"],
    ),
    (
        "institution",
        "outside mri from brigham (done at the foxborough site) shows the same 1.2 cm lesion in the pancreatic "
        "tail.",
        ["brigham", "foxborough"],
        ["1.2 cm lesion", "pancreatic tail"],
    ),
    (
        "institution",
        "Pt was previously worked up at the Tata Memorial Centre, Parel. PET-CT: FDG-avid cervical mass, SUVmax "
        "14.2.",
        ["Tata Memorial Centre", "Parel"],
        ["FDG-avid cervical mass", "SUVmax 14.2"],
    ),
    (
        "institution",
        "Repeat imaging at Westmead Children's requested by family. Intussusception reduced on first attempt.",
        ["Westmead Children's"],
        ["Intussusception reduced"],
    ),
    # ------------------------------------------------------------------
    # Dates
    # ------------------------------------------------------------------
    (
        "date",
        "Comparison: CT chest dated March 14th, 2024. New 5 mm nodule in the left upper lobe.",
        ["March 14th, 2024"],
        ["New 5 mm nodule", "left upper lobe"],
    ),
    (
        "date",
        "DOS: 14-Mar-2024  DOB: 02-Jan-1960\nXR knee: moderate joint effusion.",
        ["14-Mar-2024", "02-Jan-1960"],
        ["moderate joint effusion"],
    ),
    ("date", "Exam date 2024.03.14. US: hepatic steatosis.", ["2024.03.14"], ["hepatic steatosis"]),
    (
        "date",
        "Previously imaged on the 14th of March; today's film shows progression of the right pleural effusion.",
        ["14th of March"],
        ["progression of the right pleural effusion"],
    ),
    (
        "date",
        "DOB 12/25/1948. Annual screening mammogram: BI-RADS 2.",
        ["12/25/1948"],
        ["BI-RADS 2"],
    ),
    (
        "date",
        "Admitted 3/2, CT 3/4, repeat CT today shows decrease in the size of the left frontal hematoma.",
        ["3/2", "3/4"],
        ["decrease in the size", "left frontal hematoma"],
    ),
    (
        "date",
        "OBR|1|3319007|71245598|CTCHEST^CT CHEST W CONTRAST|||20240314093000|||||||||||||||F",
        ["3319007", "71245598", "20240314093000"],
        ["CT CHEST W CONTRAST"],
    ),
    (
        "date",
        "Date of birth: 03.14.1956. Exam: Lumbar spine XR. Compression fracture of L1 with 30% height loss.",
        ["03.14.1956"],
        ["Compression fracture of L1", "30% height loss"],
    ),
    (
        "date",
        "Compared with priors from Jan 5, 2023 and Aug 22, 2023. Stable 7 mm left thyroid nodule.",
        ["Jan 5, 2023", "Aug 22, 2023"],
        ["Stable 7 mm left thyroid nodule"],
    ),
    (
        "date",
        "Study performed on Tuesday, 12 November 2023 at 08:30. MR liver: FNH in segment 4a.",
        ["12 November 2023"],
        ["FNH", "segment 4a"],
    ),
    (
        "date",
        "LMP: 2/11/24. Early pregnancy US: gestational sac without yolk sac, MSD 12 mm.",
        ["2/11/24"],
        ["gestational sac without yolk sac", "MSD 12 mm"],
    ),
    (
        "date",
        "Comparison made to previous examination of 14th Mar '24. Right lower lobe consolidation has resolved.",
        ["14th Mar '24"],
        ["Right lower lobe consolidation has resolved"],
    ),
    (
        "date",
        "Injury occurred on Christmas Eve 2023; XR shows healing callus at the left clavicle fracture site.",
        ["Christmas Eve 2023"],
        ["healing callus", "left clavicle fracture"],
    ),
    (
        "date",
        "Date of service: 2024-03-14T09:31:00Z. No interval change in the right renal angiomyolipoma.",
        ["2024-03-14T09:31:00Z"],
        ["No interval change", "right renal angiomyolipoma"],
    ),
    (
        "date",
        "Comparison: 14/3/2024 and 28/02/2024. Increasing left pneumothorax.",
        ["14/3/2024", "28/02/2024"],
        ["Increasing left pneumothorax"],
    ),
    (
        "date",
        "Exam performed 14.03.2024. Multiple liver metastases, largest 4.3 cm in segment 8.",
        ["14.03.2024"],
        ["Multiple liver metastases", "4.3 cm", "segment 8"],
    ),
    (
        "date",
        "STUDY DATE: MAR-14-2024 / DOB: JUL-04-1951\nXR LEFT KNEE: LEFT KNEE EFFUSION. NO FRACTURE.",
        ["MAR-14-2024", "JUL-04-1951"],
        ["LEFT KNEE EFFUSION", "NO FRACTURE"],
    ),
    (
        "date",
        "pt had ct on march 3rd at outside facility and repeat on the 9th. ct today: resolving SAH.",
        ["march 3rd", "the 9th"],
        ["resolving SAH"],
    ),
    (
        "date",
        "Surgery (right hemicolectomy) on 11 Feb. Post-op day 5 CT: small anastomotic leak.",
        ["11 Feb"],
        ["right hemicolectomy", "Post-op day 5", "small anastomotic leak"],
    ),
    (
        "date",
        "Delivered 1/30/2024 by C-section. Postpartum CT: ovarian vein thrombosis on the right.",
        ["1/30/2024"],
        ["C-section", "ovarian vein thrombosis", "on the right"],
    ),
    (
        "date",
        "Prior: MR 2019-07-08, 2020-01-15, 2021-06-30. Stable meningioma along the left sphenoid wing, 2.1 cm.",
        ["2019-07-08", "2020-01-15", "2021-06-30"],
        ["Stable meningioma", "left sphenoid wing", "2.1 cm"],
    ),
    (
        "date",
        "Date: 14 Mar 24   Time: 22:41\nCT head: subarachnoid hemorrhage in the basal cisterns, modified Fisher "
        "grade 3.",
        ["14 Mar 24"],
        ["subarachnoid hemorrhage", "basal cisterns", "modified Fisher grade 3"],
    ),
    (
        "date",
        "examination date thursday the fourteenth of march two thousand twenty four right humeral shaft "
        "fracture",
        ["fourteenth of march two thousand twenty four"],
        ["right humeral shaft fracture"],
    ),
    (
        "date",
        "DOD 03/22/2024 (post-mortem CT). Massive hemopericardium.",
        ["03/22/2024"],
        ["post-mortem CT", "Massive hemopericardium"],
    ),
    (
        "date",
        "Admission date: 2024/03/10; Discharge: 2024/03/18. Interval CT demonstrates resolved peripancreatic "
        "collection.",
        ["2024/03/10", "2024/03/18"],
        ["resolved peripancreatic collection"],
    ),
    (
        "date",
        "Follow-up recommended in 3 months (around mid-June 2024) for the 7 mm left lower lobe nodule.",
        ["mid-June 2024"],
        ["Follow-up recommended in 3 months", "7 mm left lower lobe nodule"],
    ),
    (
        "date",
        "Patient born 5th of May 1944. Screening AAA US: aorta 3.1 cm.",
        ["5th of May 1944"],
        ["aorta 3.1 cm"],
    ),
    (
        "date",
        "CT 14MAR2024 compared to CT 02JAN2024: new right adrenal nodule 1.3 cm.",
        ["14MAR2024", "02JAN2024"],
        ["new right adrenal nodule 1.3 cm"],
    ),
    (
        "date",
        "Date of Exam: 3-14-24. Right wrist: scaphoid waist fracture.",
        ["3-14-24"],
        ["Right wrist", "scaphoid waist fracture"],
    ),
    (
        "date",
        "Compared with study of Sept. 9th. Improved aeration of the left lung base.",
        ["Sept. 9th"],
        ["Improved aeration", "left lung base"],
    ),
    (
        "date",
        "Age: 32 (DOB 1992-02-29). Pelvic MRI: diffuse adenomyosis, junctional zone 14 mm.",
        ["1992-02-29"],
        ["diffuse adenomyosis", "junctional zone 14 mm"],
    ),
    (
        "date",
        "Exam: 14 mars 2024 (hôpital). Pneumonie lobaire inférieure droite. Comparison with study of "
        "2 days ago shows progression.",
        ["14 mars 2024"],
        ["2 days ago", "progression"],
    ),
    (
        "date",
        "Pt was admitted over the long weekend (Sept 2-4, 2023) after MVC. Follow-up CT: healing right "
        "acetabular fracture.",
        ["Sept 2-4, 2023"],
        ["healing right acetabular fracture"],
    ),
    (
        "date",
        "Prior XR 03/2023 and 11/2023 for comparison. Progressive joint space narrowing in the left hip.",
        ["03/2023", "11/2023"],
        ["Progressive joint space narrowing", "left hip"],
    ),
    # ------------------------------------------------------------------
    # Ages over 89
    # ------------------------------------------------------------------
    (
        "age_over_89",
        "Pt is a 93 yo male with SOB. CXR: bilateral pleural effusions, larger on the right.",
        ["93 yo"],
        ["male", "SOB", "bilateral pleural effusions", "larger on the right"],
    ),
    (
        "age_over_89",
        "97-year-old woman with a fall. CT head: no acute intracranial injury. Chronic small vessel disease.",
        ["97-year-old"],
        ["woman with a fall", "no acute intracranial injury", "Chronic small vessel disease"],
    ),
    (
        "age_over_89",
        "Age: 101Y  Sex: F\nXR left hip: displaced subcapital femoral neck fracture.",
        ["101Y"],
        ["Sex: F", "XR left hip", "displaced subcapital femoral neck fracture"],
    ),
    (
        "age_over_89",
        "92 y/o M with dysphagia. Barium swallow: large hiatal hernia.",
        ["92 y/o"],
        ["dysphagia", "large hiatal hernia"],
    ),
    (
        "age_over_89",
        "History: 91M fall, on warfarin. CT head: acute left subdural hematoma 8 mm.",
        ["91M"],
        ["on warfarin", "acute left subdural hematoma 8 mm"],
    ),
    (
        "age_over_89",
        "This ninety-four-year-old gentleman presented with abdominal pain. CT: ischemic colitis of the "
        "splenic flexure.",
        ["ninety-four-year-old"],
        ["gentleman", "abdominal pain", "ischemic colitis", "splenic flexure"],
    ),
    (
        "age_over_89",
        "Patient aged 90 years. Portable CXR: cardiomegaly with pulmonary edema.",
        ["aged 90 years"],
        ["cardiomegaly with pulmonary edema"],
    ),
    (
        "age_over_89",
        "104 yrs, pneumonia: right lower lobe consolidation with small parapneumonic effusion.",
        ["104 yrs"],
        ["right lower lobe consolidation", "small parapneumonic effusion"],
    ),
    (
        "age_over_89",
        "AGE/SEX: 96/F  CT ABD: LARGE BOWEL OBSTRUCTION DUE TO SIGMOID VOLVULUS",
        ["96/F"],
        ["LARGE BOWEL OBSTRUCTION", "SIGMOID VOLVULUS"],
    ),
    (
        "age_over_89",
        "Pt is 99, lives independently. DEXA: severe osteoporosis, T-score -3.4.",
        ["99"],
        ["lives independently", "severe osteoporosis", "T-score -3.4"],
    ),
    (
        "age_over_89",
        "ninety-one year old female, post-op day 2 hip hemiarthroplasty, CXR for hypoxia: atelectasis at the "
        "left base.",
        ["ninety-one year old"],
        ["female", "post-op day 2", "hip hemiarthroplasty", "atelectasis at the left base"],
    ),
    (
        "age_over_89",
        "Edad: 95 años. Chest X-ray: right hilar mass.",
        ["95 años"],
        ["right hilar mass"],
    ),
    (
        "age_over_89",
        "In view of the patient's age (98) and comorbidities, surgical management was not pursued. Known "
        "7.5 cm AAA.",
        ["98"],
        ["7.5 cm AAA"],
    ),
    (
        "age_over_89",
        "Elderly lady, year of birth 1929. Right total hip arthroplasty, no loosening.",
        ["1929"],
        ["Elderly lady", "Right total hip arthroplasty", "no loosening"],
    ),
    (
        "age_over_89",
        "A 103-year-old man. Hip XR: bilateral hip arthroplasties without periprosthetic fracture.",
        ["103-year-old"],
        ["man", "bilateral hip arthroplasties", "without periprosthetic fracture"],
    ),
    (
        "age_over_89",
        "PT AGE 92YRS 4MOS  XR CHEST: NO ACUTE DISEASE.",
        ["92YRS 4MOS"],
        ["NO ACUTE DISEASE"],
    ),
    # ------------------------------------------------------------------
    # Device identifiers / serial numbers
    # ------------------------------------------------------------------
    (
        "device_id",
        "Dual-chamber pacemaker (Medtronic Azure XT DR MRI SureScan), serial number PZX612345S, programmed to "
        "MRI mode prior to scanning. MRI brain: no acute infarct.",
        ["PZX612345S"],
        ["Dual-chamber pacemaker", "MRI mode", "no acute infarct"],
    ),
    (
        "device_id",
        "ICD S/N 7331948 interrogated pre-scan. CT chest: lead tips in the right atrial appendage and RV apex.",
        ["7331948"],
        ["right atrial appendage", "RV apex"],
    ),
    (
        "device_id",
        "Cochlear implant (serial 4KX-882190) on the right - MRI performed with head bandage per protocol.",
        ["4KX-882190"],
        ["Cochlear implant", "on the right"],
    ),
    (
        "device_id",
        "Port-a-Cath, lot 22H1187, serial RPL-99812. Tip at the cavoatrial junction.",
        ["22H1187", "RPL-99812"],
        ["Port-a-Cath", "cavoatrial junction"],
    ),
    (
        "device_id",
        "Insulin pump serial no. PJ4092817 removed before MRI. MRI abdomen: pancreatic atrophy.",
        ["PJ4092817"],
        ["pancreatic atrophy"],
    ),
    (
        "device_id",
        "VNS generator SN 102334 (Model 106). Left chest wall generator with lead coursing to the left carotid "
        "sheath.",
        ["102334"],
        ["Left chest wall generator", "left carotid sheath"],
    ),
    (
        "device_id",
        "Breast implants: serial numbers 33908812-007 (L) and 33908812-011 (R). Intact bilateral silicone "
        "implants without intracapsular rupture.",
        ["33908812-007", "33908812-011"],
        ["Intact bilateral silicone implants", "without intracapsular rupture"],
    ),
    (
        "device_id",
        "Implantable loop recorder, SN RLB234567G, in the left parasternal subcutaneous tissue.",
        ["RLB234567G"],
        ["Implantable loop recorder", "left parasternal subcutaneous tissue"],
    ),
    (
        "device_id",
        "Aneurysm clip implant card: lot 15A4412, MR conditional at 3T. Post-clipping changes at the right MCA "
        "bifurcation.",
        ["15A4412"],
        ["MR conditional at 3T", "right MCA bifurcation"],
    ),
    (
        "device_id",
        "DBS IPG S/N NPC700221H. Electrodes in the bilateral subthalamic nuclei.",
        ["NPC700221H"],
        ["bilateral subthalamic nuclei"],
    ),
    (
        "device_id",
        "IVC filter (serial no. GF-2019-03377) in infrarenal position, tilted 12 degrees. Retrieval hook "
        "abuts the caval wall.",
        ["GF-2019-03377"],
        ["infrarenal position", "tilted 12 degrees", "Retrieval hook"],
    ),
    # ------------------------------------------------------------------
    # URLs / network identifiers
    # ------------------------------------------------------------------
    (
        "url",
        "View images: https://mychart.northshore.org/imaging/study/88213-4471a. CXR: no change.",
        ["https://mychart.northshore.org/imaging/study/88213-4471a"],
        ["no change"],
    ),
    (
        "url",
        "Outside images available at http://images.lakeside-rad.com/s/8Fk2Lq (password sent separately). MRI: "
        "L5 pars defect.",
        ["http://images.lakeside-rad.com/s/8Fk2Lq"],
        ["L5 pars defect"],
    ),
    (
        "url",
        "Shared via www.imageshare-portal.com/p/ahmed-elsayed-ct-2024. CT: no acute abnormality.",
        ["www.imageshare-portal.com/p/ahmed-elsayed-ct-2024"],
        ["no acute abnormality"],
    ),
    (
        "url",
        "PACS link: pacs.stmarys.nhs.uk/viewer?accession=RJ7-2024-55120&pid=K7654321\nLobar pneumonia, right "
        "middle lobe.",
        ["pacs.stmarys.nhs.uk/viewer?accession=RJ7-2024-55120&pid=K7654321"],
        ["Lobar pneumonia", "right middle lobe"],
    ),
    (
        "url",
        "Patient's fundraising page (https://gofund.me/4b2c91aa) describes the accident. XR: comminuted "
        "fracture of the left femoral shaft.",
        ["https://gofund.me/4b2c91aa"],
        ["comminuted fracture", "left femoral shaft"],
    ),
    (
        "ip_address",
        "Remote read from workstation IP 10.14.22.187. CT head: no acute findings.",
        ["10.14.22.187"],
        ["no acute findings"],
    ),
    # ------------------------------------------------------------------
    # Mixed report fragments (signatures, cc lists, critical results)
    # ------------------------------------------------------------------
    (
        "clinician_name",
        "CRITICAL RESULT: Tension pneumothorax on the left with mediastinal shift to the right. Called to "
        "Dr. Olusegun Adewale-Martins, ED attending, at 03:12 on 2/17/2024; read back and verified.",
        ["Olusegun Adewale-Martins", "2/17/2024"],
        ["Tension pneumothorax on the left", "mediastinal shift to the right"],
    ),
    (
        "clinician_name",
        "cc: Dr. W. Brown (GP), Ms K. Nakamura (Breast Care Nurse), Mr P. Szabó (Consultant Surgeon)\n"
        "Right breast: 14 mm spiculated mass at 11 o'clock, U5.",
        ["W. Brown", "K. Nakamura", "P. Szabó"],
        ["Right breast", "14 mm spiculated mass", "11 o'clock", "U5"],
    ),
    (
        "clinician_name",
        "Findings discussed with Dr Eoin Mac Giolla Phádraig at 14:32 by telephone. Acute cholecystitis with "
        "gallbladder wall 7 mm.",
        ["Eoin Mac Giolla Phádraig"],
        ["Acute cholecystitis", "gallbladder wall 7 mm"],
    ),
    (
        "clinician_name",
        "Reporting Radiologist: Dr. Xu Jianguo (许建国)\nPeer review: Dr. Hoàng Văn Đức\nNo pulmonary nodules.",
        ["Xu Jianguo", "许建国", "Hoàng Văn Đức"],
        ["No pulmonary nodules"],
    ),
    (
        "clinician_name",
        "Dr. Robin Church, the patient's oncologist, requested measurements per RECIST 1.1: target lesion 1 "
        "(liver segment 5) 3.4 cm, target lesion 2 (right adrenal) 2.0 cm.",
        ["Robin Church"],
        ["RECIST 1.1", "liver segment 5", "3.4 cm", "right adrenal", "2.0 cm"],
    ),
    (
        "clinician_name",
        "Urgent finding communicated to Dr. Bola Ige-Fashanu via secure chat (Perfect Serve) at 18:05. Acute "
        "mesenteric ischemia with SMA occlusion.",
        ["Bola Ige-Fashanu"],
        ["Acute mesenteric ischemia", "SMA occlusion"],
    ),
    (
        "clinician_name",
        "This examination was interpreted by Marek Zieliński, M.D., and reviewed with Sara Ahlberg, M.D. "
        "Small right pleural effusion; no consolidation.",
        ["Marek Zieliński", "Sara Ahlberg"],
        ["Small right pleural effusion", "no consolidation"],
    ),
    (
        "clinician_name",
        "SIGNED BY: MOHAMMADREZA TAVAKOLI (RADIOLOGY FELLOW) / SUPERVISED: FERESHTEH ANSARI-RAD (ATTENDING)\n"
        "IMPRESSION: HEPATIC CIRRHOSIS WITH SPLENOMEGALY, 15.4 CM.",
        ["MOHAMMADREZA TAVAKOLI", "FERESHTEH ANSARI-RAD"],
        ["HEPATIC CIRRHOSIS", "SPLENOMEGALY", "15.4 CM"],
    ),
    (
        "clinician_name",
        "Discussed with Dr. Sunny Day (obstetrics) who will arrange review. Placenta previa, complete.",
        ["Sunny Day"],
        ["Placenta previa, complete"],
    ),
    (
        "clinician_name",
        "Discussed with dr. de jong and dr. van den broek (surgery) at the bedside. Pneumoperitoneum after "
        "colonoscopy.",
        ["de jong", "van den broek"],
        ["Pneumoperitoneum after colonoscopy"],
    ),
    (
        "clinician_name",
        "Sonographer: B.K.  Reviewing radiologist: Dr. Mwangi. Right hepatic lobe lesion 2.7 cm, hemangioma "
        "likely.",
        ["B.K.", "Mwangi"],
        ["Right hepatic lobe lesion 2.7 cm", "hemangioma likely"],
    ),
    (
        "patient_name",
        "Comparison: outside films from Lenox Hill dated 10/05/2023 (patient Goldstein-Ferrara, Miriam). "
        "Stable right hilar lymphadenopathy.",
        ["Lenox Hill", "10/05/2023", "Goldstein-Ferrara, Miriam"],
        ["Stable right hilar lymphadenopathy"],
    ),
    (
        "patient_name",
        "ID verified x2 (name + DOB) with pt, Thandiwe Nkosi-Mahlangu, before contrast. 100 mL Visipaque "
        "given. No contrast reaction.",
        ["Thandiwe Nkosi-Mahlangu"],
        ["100 mL Visipaque", "No contrast reaction"],
    ),
    (
        "patient_name",
        "EXAM MISLABELED: images belong to HERNANDEZ, LUIS A (not HERNANDES, LUIZ). Report retracted. "
        "Correct patient has no acute fracture.",
        ["HERNANDEZ, LUIS A", "HERNANDES, LUIZ"],
        ["no acute fracture"],
    ),
    (
        "patient_name",
        "Abdulkadir ibn Yusuf al-Masri, 63M, CT chest: right lower lobe mass 4.6 cm with ipsilateral hilar "
        "adenopathy, stage IIIA.",
        ["Abdulkadir ibn Yusuf al-Masri"],
        ["63M", "right lower lobe mass 4.6 cm", "ipsilateral hilar adenopathy", "stage IIIA"],
    ),
    (
        "patient_name",
        "Pt Haruto Suzuki-Brennan, 8 yo boy, skeletal survey for NAI: no occult fractures.",
        ["Haruto Suzuki-Brennan"],
        ["8 yo boy", "skeletal survey", "no occult fractures"],
    ),
    (
        "patient_name",
        "A 58-year-old man, Mr. Everton Grant-Campbell, with a history of sickle cell trait. CT: splenic "
        "infarct involving 30% of the spleen.",
        ["Everton Grant-Campbell"],
        ["58-year-old man", "sickle cell trait", "splenic infarct", "30% of the spleen"],
    ),
    (
        "patient_name",
        "PATIENT: MC CARTHY, SEAN P   AGE: 34Y   SEX: M\nXR L SHOULDER: ANTERIOR DISLOCATION.",
        ["MC CARTHY, SEAN P"],
        ["AGE: 34Y", "SEX: M", "XR L SHOULDER", "ANTERIOR DISLOCATION"],
    ),
    (
        "patient_name",
        "Patient (Mr. Reza Hosseinzadeh-Tabrizi) is on hemodialysis. Left arm AV fistula with 60% stenosis at "
        "the juxta-anastomotic segment.",
        ["Reza Hosseinzadeh-Tabrizi"],
        ["hemodialysis", "Left arm AV fistula", "60% stenosis", "juxta-anastomotic segment"],
    ),
    (
        "patient_name",
        "Mrs Iwona Brzęczyszczykiewicz, 71. CT: bilateral renal cysts, largest 5 cm on the left, Bosniak I.",
        ["Iwona Brzęczyszczykiewicz"],
        ["bilateral renal cysts", "5 cm on the left", "Bosniak I"],
    ),
    (
        "patient_name",
        'Pt Olufunmilayo Adeniyi-Jones asked about the "spot on her lung"; the 5 mm right upper lobe nodule is '
        "calcified and benign.",
        ["Olufunmilayo Adeniyi-Jones"],
        ["5 mm right upper lobe nodule", "calcified and benign"],
    ),
    (
        "patient_name",
        "Selam Tesfaye Bekele, 26F, postpartum day 3: MRV shows superior sagittal sinus thrombosis.",
        ["Selam Tesfaye Bekele"],
        ["26F", "postpartum day 3", "superior sagittal sinus thrombosis"],
    ),
    (
        "patient_name",
        "Name: Sri Lakshmi Venkata Naga Durga Prasanna  IP No: 24/11873\nCT brain: acute infarct in the left PCA "
        "territory.",
        ["Sri Lakshmi Venkata Naga Durga Prasanna", "24/11873"],
        ["acute infarct", "left PCA territory"],
    ),
    (
        "patient_name",
        "Patient: Liu, Yang (Chinese name order: Liu Yang). Thyroid: diffuse enlargement with increased "
        "vascularity (thyroid inferno).",
        ["Liu, Yang", "Liu Yang"],
        ["diffuse enlargement", "increased vascularity", "thyroid inferno"],
    ),
    (
        "patient_name",
        'Patient: Ioannis "John" Karagiannis. Fluoroscopic swallow: silent aspiration with thin liquids.',
        ['Ioannis "John" Karagiannis'],
        ["silent aspiration with thin liquids"],
    ),
    (
        "patient_name",
        "Mr. Sterling Church-Whitaker is status post right pneumonectomy. Postpneumonectomy space filling with "
        "fluid as expected.",
        ["Sterling Church-Whitaker"],
        ["right pneumonectomy", "Postpneumonectomy space"],
    ),
    (
        "patient_name",
        "Ms. Dolores Baptiste-Nwankwo (preferred name Dee) presents with a palpable lump. US: 1.9 cm simple "
        "cyst at 3 o'clock, BI-RADS 2.",
        ["Dolores Baptiste-Nwankwo", "Dee"],
        ["palpable lump", "1.9 cm simple cyst", "3 o'clock", "BI-RADS 2"],
    ),
    (
        "patient_name",
        "Mr. Hemi Te Rangi Walker, 49M. CT chest: bilateral lower lobe bronchiectasis.",
        ["Hemi Te Rangi Walker"],
        ["49M", "bilateral lower lobe bronchiectasis"],
    ),
    (
        "patient_name",
        "Patient: Vo Thi Thanh Tam / DOB 1975-10-30 / MRN VN-118833\nUS liver: HBV cirrhosis, 1.6 cm "
        "hypoechoic nodule in segment 6.",
        ["Vo Thi Thanh Tam", "1975-10-30", "VN-118833"],
        ["HBV cirrhosis", "1.6 cm hypoechoic nodule", "segment 6"],
    ),
    (
        "patient_name",
        "Mr. Rashid Al-Maktoum's left knee: medial compartment narrowing, Kellgren-Lawrence grade 2.",
        ["Rashid Al-Maktoum"],
        ["left knee", "medial compartment narrowing", "Kellgren-Lawrence grade 2"],
    ),
    (
        "patient_name",
        "Patient Olga Nikolaevna Smirnova-Petrenko. CT neck: 3.2 cm left thyroid mass with tracheal deviation.",
        ["Olga Nikolaevna Smirnova-Petrenko"],
        ["3.2 cm left thyroid mass", "tracheal deviation"],
    ),
    (
        "patient_name",
        "PATIENT: ÖZTÜRK, MUSTAFA KEMAL\nCT ABDOMEN: 8 MM STONE IN THE PROXIMAL RIGHT URETER.",
        ["ÖZTÜRK, MUSTAFA KEMAL"],
        ["8 MM STONE", "PROXIMAL RIGHT URETER"],
    ),
    (
        "patient_name",
        "Gunnhild Løvås-Andersen, 64F: FDG PET-CT shows hypermetabolic left axillary nodes, SUVmax 6.2.",
        ["Gunnhild Løvås-Andersen"],
        ["64F", "hypermetabolic left axillary nodes", "SUVmax 6.2"],
    ),
    (
        "patient_name",
        "Dx: Mr Tomás Ó Súilleabháin - right renal colic. CT KUB: 5 mm right VUJ calculus.",
        ["Tomás Ó Súilleabháin"],
        ["right renal colic", "5 mm right VUJ calculus"],
    ),
    (
        "patient_name",
        "Pt name: Ms. Chidimma Grace Uchenna-Obi   Ref: Dr. Femi Akinwande-Cole\nPelvic US: 2.3 cm dermoid "
        "cyst in the left ovary.",
        ["Chidimma Grace Uchenna-Obi", "Femi Akinwande-Cole"],
        ["2.3 cm dermoid cyst", "left ovary"],
    ),
    (
        "patient_name",
        "The patient, Mr. Mehmet Ali Kaya, was positioned prone. CT-guided biopsy of the L3 vertebral body "
        "lesion, 11G needle, 2 cores.",
        ["Mehmet Ali Kaya"],
        ["prone", "L3 vertebral body lesion", "11G needle", "2 cores"],
    ),
    # ------------------------------------------------------------------
    # Clean cases: eponyms, devices, scores and numbers that must survive
    # ------------------------------------------------------------------
    (
        "clean",
        "CXR PA: Kerley B lines at both bases with small bilateral pleural effusions, consistent with "
        "interstitial edema. Cardiothoracic ratio 0.58.",
        [],
        [
            "Kerley B lines",
            "both bases",
            "small bilateral pleural effusions",
            "interstitial edema",
            "Cardiothoracic ratio 0.58",
        ],
    ),
    (
        "clean",
        "CTPA: Wedge-shaped peripheral opacity in the right lower lobe (Hampton hump) with regional oligemia "
        "(Westermark sign), consistent with pulmonary infarction.",
        [],
        [
            "Wedge-shaped peripheral opacity",
            "right lower lobe",
            "Hampton hump",
            "Westermark sign",
            "pulmonary infarction",
        ],
    ),
    (
        "clean",
        "Portable AP chest: Swan-Ganz catheter via the right IJ with tip in the right main pulmonary artery. "
        "Dobhoff tube tip in the gastric antrum. Foley catheter noted over the pelvis.",
        [],
        [
            "Swan-Ganz catheter",
            "right IJ",
            "right main pulmonary artery",
            "Dobhoff tube",
            "gastric antrum",
            "Foley catheter",
        ],
    ),
    (
        "clean",
        "Left chest Port-a-Cath with catheter tip at the cavoatrial junction. No pneumothorax. Sternotomy "
        "wires intact.",
        [],
        [
            "Left chest Port-a-Cath",
            "cavoatrial junction",
            "No pneumothorax",
            "Sternotomy wires intact",
        ],
    ),
    (
        "clean",
        "MRI brain: Chiari I malformation with cerebellar tonsils 7 mm below the foramen magnum. No syrinx in "
        "the cervical cord.",
        [],
        ["Chiari I malformation", "7 mm below the foramen magnum", "No syrinx", "cervical cord"],
    ),
    (
        "clean",
        "Neonatal CXR: left-sided Bochdalek hernia with bowel loops in the left hemithorax and mediastinal shift "
        "to the right.",
        [],
        ["left-sided Bochdalek hernia", "left hemithorax", "mediastinal shift to the right"],
    ),
    (
        "clean",
        "CT chest: fat-containing right anterior cardiophrenic lesion consistent with a Morgagni hernia, 4 cm.",
        [],
        ["right anterior cardiophrenic lesion", "Morgagni hernia", "4 cm"],
    ),
    (
        "clean",
        "Right apical mass invading the chest wall and destroying the posterior 2nd rib, consistent with a "
        "Pancoast tumor (superior sulcus tumor).",
        [],
        ["Right apical mass", "posterior 2nd rib", "Pancoast tumor", "superior sulcus tumor"],
    ),
    (
        "clean",
        "Middle lobe collapse from extrinsic compression by enlarged hilar nodes (Brock syndrome). Harrison "
        "sulcus noted on the frontal radiograph.",
        [],
        ["Middle lobe collapse", "enlarged hilar nodes", "Brock syndrome", "Harrison sulcus"],
    ),
    (
        "clean",
        "MRI L-spine: Schmorl node at the superior endplate of L2. Modic type 1 endplate changes at L4-L5. "
        "Tarlov cyst at S2, 1.2 cm.",
        [],
        [
            "Schmorl node",
            "superior endplate of L2",
            "Modic type 1",
            "L4-L5",
            "Tarlov cyst at S2",
            "1.2 cm",
        ],
    ),
    (
        "clean",
        "XR shoulder: Hill-Sachs deformity of the posterolateral humeral head and bony Bankart lesion of the "
        "anteroinferior glenoid.",
        [],
        [
            "Hill-Sachs deformity",
            "posterolateral humeral head",
            "bony Bankart lesion",
            "anteroinferior glenoid",
        ],
    ),
    (
        "clean",
        "XR knee: Segond fracture of the lateral tibial plateau, highly associated with ACL tear. Small joint "
        "effusion.",
        [],
        ["Segond fracture", "lateral tibial plateau", "ACL tear", "Small joint effusion"],
    ),
    (
        "clean",
        "MRI knee: Baker's cyst measuring 4.5 x 2.1 cm, with a small ruptured component tracking along the "
        "medial gastrocnemius.",
        [],
        ["Baker's cyst", "4.5 x 2.1 cm", "ruptured component", "medial gastrocnemius"],
    ),
    (
        "clean",
        "XR wrist: Colles fracture with dorsal angulation of 20 degrees. Ulnar styloid fracture. Smith fracture "
        "of the contralateral wrist on prior imaging has healed.",
        [],
        [
            "Colles fracture",
            "dorsal angulation of 20 degrees",
            "Ulnar styloid fracture",
            "Smith fracture",
            "has healed",
        ],
    ),
    (
        "clean",
        "XR forearm: Galeazzi fracture-dislocation with distal radioulnar joint disruption. Essex-Lopresti "
        "injury not excluded.",
        [],
        ["Galeazzi fracture-dislocation", "distal radioulnar joint disruption", "Essex-Lopresti"],
    ),
    (
        "clean",
        "XR foot: Lisfranc injury with 3 mm diastasis between the 1st and 2nd metatarsal bases. No Jones "
        "fracture of the 5th metatarsal.",
        [],
        [
            "Lisfranc injury",
            "3 mm diastasis",
            "1st and 2nd metatarsal bases",
            "Jones fracture",
            "5th metatarsal",
        ],
    ),
    (
        "clean",
        "Mammogram: BI-RADS 4: irregular mass with spiculated margins at 10 o'clock, middle depth, 6 cm from "
        "the nipple. Cooper ligaments distorted.",
        [],
        [
            "BI-RADS 4",
            "spiculated margins",
            "10 o'clock",
            "middle depth",
            "6 cm from the nipple",
            "Cooper ligaments",
        ],
    ),
    (
        "clean",
        "MRI prostate: PI-RADS 5 lesion in the right peripheral zone at the base, 1.8 cm, with extraprostatic "
        "extension. PSA density 0.21.",
        [],
        [
            "PI-RADS 5",
            "right peripheral zone",
            "1.8 cm",
            "extraprostatic extension",
            "PSA density 0.21",
        ],
    ),
    (
        "clean",
        "CT abdomen: Bosniak IIF cystic lesion in the left kidney. LI-RADS 3 observation in segment 7 measuring "
        "1.4 cm.",
        [],
        ["Bosniak IIF", "left kidney", "LI-RADS 3", "segment 7", "1.4 cm"],
    ),
    (
        "clean",
        "MRI T-spine: T2 hyperintense intramedullary lesion from T7 to T9, expansile, with patchy enhancement. "
        "Vertebral body heights maintained at T10, T11 and T12.",
        [],
        [
            "T2 hyperintense",
            "intramedullary lesion",
            "T7 to T9",
            "patchy enhancement",
            "T10, T11 and T12",
        ],
    ),
    (
        "clean",
        "C-spine: disc osteophyte complexes at C5-C6 and C6-C7 with moderate canal stenosis. No Jefferson "
        "fracture; C1 lateral masses aligned.",
        [],
        ["C5-C6", "C6-C7", "moderate canal stenosis", "Jefferson fracture", "C1 lateral masses"],
    ),
    (
        "clean",
        "Chest XR: NG tube at 45 cm, tip projects below the left hemidiaphragm. ETT 4.5 cm above the carina. "
        "Right PICC tip at the cavoatrial junction.",
        [],
        [
            "NG tube at 45 cm",
            "below the left hemidiaphragm",
            "ETT 4.5 cm above the carina",
            "Right PICC",
        ],
    ),
    (
        "clean",
        "Dose report: CTDIvol 12.4 mGy, DLP 456 mGy·cm. 100 mL Omnipaque 350 at 3 mL/s. Scan delay 70 s. "
        "kVp 120, mAs 250.",
        [],
        [
            "CTDIvol 12.4 mGy",
            "DLP 456 mGy·cm",
            "100 mL Omnipaque 350",
            "3 mL/s",
            "Scan delay 70 s",
            "kVp 120",
            "mAs 250",
        ],
    ),
    (
        "clean",
        "PET-CT: FDG-avid right hilar node, SUVmax 8.4. Virchow node in the left supraclavicular fossa, SUVmax "
        "5.1. Sister Mary Joseph nodule at the umbilicus.",
        [],
        [
            "FDG-avid right hilar node",
            "SUVmax 8.4",
            "Virchow node",
            "left supraclavicular fossa",
            "SUVmax 5.1",
            "Sister Mary Joseph nodule",
            "umbilicus",
        ],
    ),
    (
        "clean",
        "CT abdomen: Krukenberg tumors of both ovaries, right 6.2 cm, left 4.8 cm, in a patient with known "
        "gastric cancer.",
        [],
        ["Krukenberg tumors", "both ovaries", "right 6.2 cm", "left 4.8 cm", "gastric cancer"],
    ),
    (
        "clean",
        "CT aorta: Stanford type A dissection involving the ascending aorta and arch (DeBakey type I). Small "
        "pericardial effusion.",
        [],
        [
            "Stanford type A dissection",
            "ascending aorta and arch",
            "DeBakey type I",
            "Small pericardial effusion",
        ],
    ),
    (
        "clean",
        "Barium swallow: Schatzki ring at the GE junction. Zenker diverticulum 1.5 cm. Barrett esophagus cannot "
        "be assessed on this study.",
        [],
        ["Schatzki ring", "GE junction", "Zenker diverticulum 1.5 cm", "Barrett esophagus"],
    ),
    (
        "clean",
        "US abdomen: positive sonographic Murphy sign. Gallbladder wall 5 mm. Stone impacted in the Hartmann "
        "pouch, 2.2 cm. Small free fluid in Morison pouch.",
        [],
        [
            "sonographic Murphy sign",
            "Gallbladder wall 5 mm",
            "Hartmann pouch",
            "2.2 cm",
            "Morison pouch",
        ],
    ),
    (
        "clean",
        "CT: inflamed Meckel diverticulum in the right lower quadrant. Appendix normal. Small volume fluid in "
        "the pouch of Douglas.",
        [],
        ["Meckel diverticulum", "right lower quadrant", "Appendix normal", "pouch of Douglas"],
    ),
    (
        "clean",
        "Ottawa ankle rules positive. XR ankle: Maisonneuve injury suspected, with proximal fibular fracture and "
        "widened medial clear space.",
        [],
        [
            "Ottawa ankle rules",
            "Maisonneuve injury",
            "proximal fibular fracture",
            "widened medial clear space",
        ],
    ),
    (
        "clean",
        "Hip XR: Garden IV subcapital fracture. Previous Austin Moore hemiarthroplasty on the contralateral side. "
        "Kirschner wires in the greater trochanter.",
        [],
        [
            "Garden IV subcapital fracture",
            "Austin Moore hemiarthroplasty",
            "contralateral side",
            "Kirschner wires",
            "greater trochanter",
        ],
    ),
    (
        "clean",
        "Paediatric hip: Legg-Calvé-Perthes disease of the right femoral head with fragmentation. Salter-Harris "
        "II fracture of the left distal radius.",
        [],
        [
            "Legg-Calvé-Perthes disease",
            "right femoral head",
            "Salter-Harris II fracture",
            "left distal radius",
        ],
    ),
    (
        "clean",
        "MRI brain: dilated Virchow-Robin spaces. Sylvian fissures prominent. Circle of Willis patent. Rathke "
        "cleft cyst 6 mm.",
        [],
        [
            "Virchow-Robin spaces",
            "Sylvian fissures",
            "Circle of Willis patent",
            "Rathke cleft cyst 6 mm",
        ],
    ),
    (
        "clean",
        "Thyroid US: heterogeneous echotexture consistent with Hashimoto thyroiditis. Graves disease not "
        "favored. TI-RADS 2 nodule 8 mm.",
        [],
        ["Hashimoto thyroiditis", "Graves disease", "TI-RADS 2", "8 mm"],
    ),
    (
        "clean",
        "Per Fleischner Society guidelines, solid nodule 6-8 mm in a high-risk patient: CT at 6-12 months, then "
        "consider CT at 18-24 months. Lung-RADS 3.",
        [],
        ["Fleischner Society", "6-8 mm", "6-12 months", "18-24 months", "Lung-RADS 3"],
    ),
    (
        "clean",
        "Liver MRI: Couinaud segment VIII lesion, 3.1 cm. Riedel lobe noted. Glisson capsule intact.",
        [],
        ["Couinaud segment VIII", "3.1 cm", "Riedel lobe", "Glisson capsule"],
    ),
    (
        "clean",
        "Post-op: Jackson-Pratt drain in the surgical bed. Hickman line tip in the SVC. PleurX catheter in the "
        "right pleural space.",
        [],
        ["Jackson-Pratt drain", "Hickman line", "SVC", "PleurX catheter", "right pleural space"],
    ),
    (
        "clean",
        "Scoliosis series: Cobb angle 32 degrees from T5 to T12. Risser grade 3. No Harrington rods.",
        [],
        ["Cobb angle 32 degrees", "T5 to T12", "Risser grade 3", "Harrington rods"],
    ),
    (
        "clean",
        "Obstetric US: 32 weeks 4 days by biometry. EFW 2145 g (48th centile). AFI 12.3 cm. FHR 142 bpm. "
        "Cephalic presentation.",
        [],
        [
            "32 weeks 4 days",
            "EFW 2145 g",
            "48th centile",
            "AFI 12.3 cm",
            "FHR 142 bpm",
            "Cephalic presentation",
        ],
    ),
    (
        "clean",
        "MRI knee: Outerbridge grade III chondral loss in the medial femoral condyle. Hoffa fat pad edema. "
        "Osgood-Schlatter changes at the tibial tubercle.",
        [],
        [
            "Outerbridge grade III",
            "medial femoral condyle",
            "Hoffa fat pad edema",
            "Osgood-Schlatter",
            "tibial tubercle",
        ],
    ),
    (
        "clean",
        "Lugano staging: Hodgkin lymphoma with supra- and infradiaphragmatic nodal disease, stage III. "
        "Deauville score 4.",
        [],
        ["Lugano staging", "Hodgkin lymphoma", "stage III", "Deauville score 4"],
    ),
    (
        "clean",
        "Elbow XR: Mayo type IIA olecranon fracture. Mason type II radial head fracture. Posterior fat pad sign "
        "positive.",
        [],
        [
            "Mayo type IIA olecranon fracture",
            "Mason type II radial head fracture",
            "Posterior fat pad sign",
        ],
    ),
    (
        "clean",
        "Spine: Chance fracture at L1. No hangman fracture of C2. Clay-shoveler fracture of the C7 spinous "
        "process.",
        [],
        [
            "Chance fracture at L1",
            "hangman fracture of C2",
            "Clay-shoveler fracture",
            "C7 spinous process",
        ],
    ),
    (
        "clean",
        "CT head: Dandy-Walker variant. Foramina of Luschka and Magendie patent. Foramen of Monro not obstructed. "
        "Evans index 0.28.",
        [],
        [
            "Dandy-Walker variant",
            "Foramina of Luschka and Magendie",
            "Foramen of Monro",
            "Evans index 0.28",
        ],
    ),
    (
        "clean",
        "Renal US: prominent column of Bertin in the left kidney mimicking a mass. Gerota fascia thickened on "
        "the right.",
        [],
        ["column of Bertin", "left kidney", "Gerota fascia", "on the right"],
    ),
    (
        "clean",
        "Male, 45, presenting with right scrotal pain 2 days ago. Testicular torsion excluded; epididymitis on "
        "the right.",
        [],
        [
            "Male, 45",
            "right scrotal pain",
            "2 days ago",
            "Testicular torsion excluded",
            "epididymitis",
        ],
    ),
    (
        "clean",
        "Small bowel follow-through: rose thorn ulcers and string sign of Kantor in the terminal ileum, "
        "consistent with Crohn disease.",
        [],
        ["rose thorn ulcers", "string sign of Kantor", "terminal ileum", "Crohn disease"],
    ),
    (
        "clean",
        "MR cardiac: LVEF 55%, RVEF 48%. Late gadolinium enhancement in the basal inferolateral wall, "
        "mid-myocardial pattern. T1 1080 ms, ECV 31%.",
        [],
        [
            "LVEF 55%",
            "RVEF 48%",
            "Late gadolinium enhancement",
            "basal inferolateral wall",
            "T1 1080 ms",
            "ECV 31%",
        ],
    ),
    (
        "clean",
        "Series 3, image 45: 6 mm nodule in the lateral segment of the middle lobe. Series 601 image 112: "
        "ADC 0.6 x 10^-3 mm2/s within the lesion.",
        [],
        [
            "Series 3, image 45",
            "6 mm nodule",
            "lateral segment of the middle lobe",
            "Series 601 image 112",
            "ADC 0.6 x 10^-3 mm2/s",
        ],
    ),
    (
        "clean",
        "The 62-year-old female underwent CT 3 weeks ago and today. Sclerotic metastasis at T10 unchanged. "
        "Vertebroplasty cement at L2 and L3.",
        [],
        [
            "62-year-old female",
            "3 weeks ago",
            "Sclerotic metastasis at T10",
            "Vertebroplasty cement at L2 and L3",
        ],
    ),
    (
        "clean",
        "Stroke protocol: ASPECTS 8. Left M1 occlusion. Good collaterals (Tan score 3). CTP core 12 mL, "
        "penumbra 86 mL, mismatch ratio 7.2.",
        [],
        [
            "ASPECTS 8",
            "Left M1 occlusion",
            "Tan score 3",
            "CTP core 12 mL",
            "penumbra 86 mL",
            "mismatch ratio 7.2",
        ],
    ),
    (
        "clean",
        "Sengstaken-Blakemore tube in situ with gastric balloon below the diaphragm. Minnesota tube not "
        "present. Ryle's tube removed.",
        [],
        ["Sengstaken-Blakemore tube", "gastric balloon", "Minnesota tube", "Ryle's tube"],
    ),
    (
        "clean",
        "CT brain: Wernicke area spared. Meyer loop involvement on the right by the temporal lobe glioma. Broca "
        "area intact.",
        [],
        ["Wernicke area", "Meyer loop", "temporal lobe glioma", "Broca area"],
    ),
    (
        "clean",
        "Pelvis: Paget disease of the right hemipelvis with cortical thickening and coarsened trabeculae. "
        "Ewing sarcoma not favored.",
        [],
        [
            "Paget disease",
            "right hemipelvis",
            "cortical thickening",
            "coarsened trabeculae",
            "Ewing sarcoma",
        ],
    ),
    (
        "clean",
        "CT abdomen: Budd-Chiari with caudate lobe hypertrophy. Klatskin tumor excluded. Courvoisier gallbladder "
        "absent.",
        [],
        ["Budd-Chiari", "caudate lobe hypertrophy", "Klatskin tumor", "Courvoisier gallbladder"],
    ),
    (
        "clean",
        "Wells score 6 per clinical team. CTPA: no pulmonary embolism. Incidental Chilaiditi sign on the "
        "scout image.",
        [],
        ["Wells score 6", "no pulmonary embolism", "Chilaiditi sign"],
    ),
    (
        "clean",
        "Gallstone with Mercedes-Benz sign in the gallbladder neck. Rigler triad absent. Milan criteria met for "
        "the 2.8 cm HCC.",
        [],
        ["Mercedes-Benz sign", "gallbladder neck", "Rigler triad", "Milan criteria", "2.8 cm HCC"],
    ),
    (
        "clean",
        "Thyroid FNA result Bethesda IV. Surgical bed clear. Level VI lymph node 7 mm, not suspicious.",
        [],
        ["Bethesda IV", "Surgical bed clear", "Level VI lymph node 7 mm"],
    ),
]

CASES: list[dict] = [
    {"text": _text, "phi": list(_phi), "clinical": list(_clinical), "kind": _kind}
    for (_kind, _text, _phi, _clinical) in _RAW
]
del _RAW

# --- integrity checks (run at import) ---------------------------------------
assert all(p in c["text"] for c in CASES for p in c["phi"] + c["clinical"])
assert len(CASES) >= 300, len(CASES)
assert all(
    set(c) == {"text", "phi", "clinical", "kind"}
    and isinstance(c["text"], str)
    and isinstance(c["kind"], str)
    and all(isinstance(s, str) and s for s in c["phi"] + c["clinical"])
    for c in CASES
)
# clean cases carry no PHI; every other case carries some
assert all((c["kind"] == "clean") == (not c["phi"]) for c in CASES)
# a protected string must never be contained in a string that has to survive
assert not any(p.lower() in k.lower() for c in CASES for p in c["phi"] for k in c["clinical"])
# no duplicated texts
assert len({c["text"] for c in CASES}) == len(CASES)
