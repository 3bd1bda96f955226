"""Real adult frontal chest films for the image benchmark: manifest, cache and pixel checks.

The films come from public collections (see ``films_manifest.csv`` and the README for sources and
licences) and are never committed: ``build`` reads them from local repository snapshots, checks
each against the SHA-256 of its pixels in the manifest, wraps it as a DICOM CR or DX object with a
plausible clean header (12-bit, ``wrap.py``) and writes it under ``$RADQC_BENCH_DATA/films``.

``films_landmarks.csv`` holds where each film's lungs end, read by eye (:func:`read_landmarks`):
the field-of-view faults cut past them, and films whose lungs run into an edge of the film in
the source are not used as bases (:func:`usable`).

A film whose pixels match a film in shared/data/cxr (every film any threshold was tuned on) is
refused: :func:`signature` decodes the pixels, puts them in display polarity, normalises them to
8 bits and averages them down to 64x64; two films are the same when the mean absolute
difference of their signatures is under 6 grey levels (also tried mirrored and inverted).

Commands::

    python -m bench.quality.films select --nih DIR --nih-meta DIR --mhh DIR
    python -m bench.quality.films build  --nih DIR --mhh DIR
    python -m bench.quality.films check
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import itertools
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from PIL import Image
from pydicom import dcmread

from bench.quality.common import CACHE, HERE, SHARED, stable_fraction
from bench.quality.film_faults import Landmarks
from bench.quality.sources import Snapshot

MANIFEST = HERE / "films_manifest.csv"
LANDMARKS = HERE / "films_landmarks.csv"
FILMS = CACHE / "films"
SAME_FILM_MAD = 6.0

SOURCES = {  # source -> (snapshot repository, licence id for the rows, licence in full)
    "nih": (
        "jrzech/reproduce-chexnet",
        "NIH-CXR14-unrestricted",
        "NIH ChestX-ray14 (NIH Clinical Center): unrestricted use with attribution "
        "(Wang et al. CVPR 2017); listed as CC0 on Kaggle",
    ),
    "mhh": (
        "ml-workgroup/covid-19-image-repository",
        "CC-BY-3.0",
        "Hannover Medical School COVID-19 image repository: CC BY 3.0",
    ),
}


@dataclass(frozen=True, slots=True)
class Film:
    film_id: str
    source: str
    path: str  # inside the source snapshot
    licence: str
    sex: str  # M, F or O (not given by the source)
    age: str  # years, or "" when the source redacts it
    view: str
    modality: str  # CR or DX, as the source describes the acquisition
    spacing_mm: float  # pixel spacing of the film as stored
    pixel_sha256: str  # of the decoded 8-bit grey pixels (row-major) as the source has them

    @property
    def cached(self) -> Path:
        return FILMS / f"{self.film_id}.dcm"


def read_manifest() -> list[Film]:
    with MANIFEST.open(newline="") as handle:
        rows = csv.DictReader(line for line in handle if not line.startswith("#"))
        return [Film(**{**r, "spacing_mm": float(r["spacing_mm"])}) for r in rows]  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class Reading:
    """A film as read by eye: where its lungs end, and the edges they run into in the source."""

    marks: Landmarks
    reaches_edge: frozenset[str]  # of "top", "bottom", "left", "right" (image sides)
    note: str


def read_landmarks() -> dict[str, Reading]:
    """film id -> its reading in ``films_landmarks.csv`` (percentages there, shares here)."""
    with LANDMARKS.open(newline="") as handle:
        rows = csv.DictReader(line for line in handle if not line.startswith("#"))
        return {
            r["film_id"]: Reading(
                Landmarks(
                    *(
                        float(r[k]) / 100
                        for k in (
                            "apex_top",
                            "angle_image_left",
                            "angle_image_right",
                            "wall_image_left",
                            "wall_image_right",
                        )
                    )
                ),
                frozenset(r["reaches_edge"].split()),
                r["note"],
            )
            for r in rows
        }


def usable(films: list[Film]) -> tuple[list[Film], list[str]]:
    """The films whose lungs are whole in the source (bases for clean and faulty cases), and
    the ids of the others with the edges they run into. A film without a reading is refused:
    every manifest film must be read before it is used."""
    readings = read_landmarks()
    missing = [f.film_id for f in films if f.film_id not in readings]
    if missing:
        raise SystemExit(f"films without a reading in {LANDMARKS.name}: {missing}")
    kept = [f for f in films if not readings[f.film_id].reaches_edge]
    left_out = [
        f"{f.film_id} ({' '.join(sorted(readings[f.film_id].reaches_edge))})"
        for f in films
        if readings[f.film_id].reaches_edge
    ]
    return kept, left_out


def grey8(data: bytes) -> np.ndarray:
    """A source image file's pixels as 8-bit grey (palette and RGB(A) images converted)."""
    image = Image.open(io.BytesIO(data))
    if image.mode not in ("L", "I;16", "I"):
        image = image.convert("L")
    array = np.asarray(image)
    if array.dtype != np.uint8:
        array = (array.astype(np.float64) / max(1, array.max()) * 255).round().astype(np.uint8)
    return array


def pixel_sha256(array: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()


def signature(array: np.ndarray, monochrome1: bool = False) -> np.ndarray:
    """64x64 float signature of an image in display polarity (bright = dense), 0..255."""
    a = array.astype(np.float64)
    if monochrome1:
        a = a.max() - a
    lo, hi = np.percentile(a, [0.5, 99.5])
    a = np.clip((a - lo) / max(hi - lo, 1e-9), 0, 1) * 255
    small = Image.fromarray(a.astype(np.float32), mode="F").resize((64, 64), Image.Resampling.BOX)
    return np.asarray(small, dtype=np.float64)


def distance(a: np.ndarray, b: np.ndarray) -> float:
    """Smallest mean absolute difference of ``a`` to ``b``, ``b`` mirrored, or inverted."""
    return float(min(np.abs(a - x).mean() for x in (b, b[:, ::-1], 255 - b)))


def tuning_signatures() -> dict[str, np.ndarray]:
    """Signatures of every decodable film in shared/data/cxr (the tuning films)."""
    found = {}
    for path in sorted((SHARED / "data/cxr").rglob("*.dcm")):
        try:
            ds = dcmread(path, force=True)
            array = ds.pixel_array
        except Exception:  # header-only and undecodable files have no pixels to compare
            continue
        mono1 = ds.get("PhotometricInterpretation") == "MONOCHROME1"
        found[path.name] = signature(array if array.ndim == 2 else array[..., 0], mono1)
    return found


def nearest_tuning(films: dict[str, np.ndarray]) -> dict[str, tuple[str, float]]:
    """For each film: the nearest tuning film and the distance to it (under 6: the same)."""
    tuning = tuning_signatures()
    return {
        film_id: min(((n, distance(sig, t)) for n, t in tuning.items()), key=lambda x: x[1])
        for film_id, sig in films.items()
    }


# -- selection ------------------------------------------------------------------------------
def _nih(snapshot: Snapshot, meta: Snapshot, n: int) -> Iterator[Film]:
    """One film per patient: the PA films of adults (Data_Entry_2017 rows in ``meta``)."""
    rows = {
        r["Image Index"]: r
        for r in csv.DictReader(io.StringIO(meta.read("Data_Entry_2017.csv").decode()))
    }
    names = [p for p in snapshot.listing("starter_images") if p.endswith(".png")]
    chosen = [
        p
        for p in names
        if (r := rows.get(Path(p).name))
        and r["View Position"] == "PA"
        and 18 <= int(r["Patient Age"]) <= 95
    ]
    chosen.sort(key=lambda p: stable_fraction(p, 11))
    for path in chosen[:n]:
        r = rows[Path(path).name]
        array = grey8(snapshot.read(path))
        width = float(r["OriginalImage[Width"])
        spacing = float(r["OriginalImagePixelSpacing[x"]) * width / array.shape[1]
        yield Film(
            f"nih-{Path(path).stem}",
            "nih",
            path,
            SOURCES["nih"][1],
            r["Patient Gender"],
            r["Patient Age"],
            "PA",
            "DX",
            round(spacing, 4),
            pixel_sha256(array),
        )


def _mhh(snapshot: Snapshot) -> Iterator[Film]:
    """The first PA film of each patient (ages are redacted by the source)."""
    rows = list(csv.DictReader(io.StringIO(snapshot.read("data.csv").decode())))
    seen: set[str] = set()
    for r in rows:
        if r["projection"] != "pa" or r["patient_id"] in seen:
            continue
        seen.add(r["patient_id"])
        path = f"png/{r['image_id']}.png"
        array = grey8(snapshot.read(path))
        spacing = round(430.0 / max(array.shape), 4)  # a 43 cm detector edge, as an estimate
        sex = {"m": "M", "w": "F", "f": "F"}.get(r["sex"], "O")
        yield Film(
            f"mhh-{r['image_id']}",
            "mhh",
            path,
            SOURCES["mhh"][1],
            sex,
            "",
            "PA",
            r["modality"],
            spacing,
            pixel_sha256(array),
        )


# -- commands -------------------------------------------------------------------------------
def _write_manifest(films: list[Film], commits: dict[str, str]) -> None:
    fields = list(Film.__dataclass_fields__)
    with MANIFEST.open("w", newline="") as handle:
        handle.write(
            "# Films of the image benchmark (bench/quality/films.py). Not committed here:\n"
        )
        handle.write(
            "# nih sex, age, view and spacing: Data_Entry_2017.csv of NIH ChestX-ray14, from the "
            "partial copy in qqto2008/capstone (patients 1-10447)\n"
        )
        for source, (repo, short, licence) in SOURCES.items():
            handle.write(f"# {source}: {repo} at {commits.get(source, '?')}; {short} = {licence}\n")
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        for film in films:
            writer.writerow(asdict(film))


def select(nih: Snapshot, nih_meta: Snapshot, mhh: Snapshot, counts: dict[str, int]) -> list[Film]:
    """Choose the films (deterministically) and write the manifest, refusing tuning films."""
    films = [
        *_nih(nih, nih_meta, counts["nih"]),
        *itertools.islice(_mhh(mhh), counts["mhh"]),
    ]
    snapshots = {"nih": nih, "mhh": mhh}
    sigs = {f.film_id: signature(grey8(snapshots[f.source].read(f.path))) for f in films}
    nearest = nearest_tuning(sigs)
    for film_id, (name, d) in nearest.items():
        if d < SAME_FILM_MAD:
            print(f"   refused {film_id}: same pixels as tuning film {name} ({d:.1f})")
    films = [f for f in films if nearest[f.film_id][1] >= SAME_FILM_MAD]
    _write_manifest(films, {k: s.commit()[:12] for k, s in snapshots.items()})
    return films


def build(snapshots: dict[str, Snapshot]) -> int:
    """Wrap every manifest film found in the given snapshots into the cache; return how many."""
    from bench.quality.wrap import wrap

    FILMS.mkdir(parents=True, exist_ok=True)
    made = 0
    for film in read_manifest():
        snapshot = snapshots.get(film.source)
        if snapshot is None:
            continue
        array = grey8(snapshot.read(film.path))
        if pixel_sha256(array) != film.pixel_sha256:
            raise SystemExit(f"{film.film_id}: pixels differ from the manifest ({film.path})")
        ds = wrap(
            array, film.film_id, film.modality, film.sex, film.age, film.view, film.spacing_mm
        )
        ds.save_as(film.cached, enforce_file_format=True)
        made += 1
    return made


def cached_films() -> list[Film]:
    """The manifest films present in the cache."""
    return [f for f in read_manifest() if f.cached.exists()]


def check_cache(films: list[Film]) -> str:
    """Refuse (exit) if a cached film has a tuning film's pixels; else a one-line summary."""
    sigs = {}
    for film in films:
        ds = dcmread(film.cached)
        mono1 = ds.PhotometricInterpretation == "MONOCHROME1"
        sigs[film.film_id] = signature(ds.pixel_array, mono1)
    nearest = nearest_tuning(sigs)
    same = [f"{k} ~ {n} ({d:.1f})" for k, (n, d) in nearest.items() if d < SAME_FILM_MAD]
    if same:
        raise SystemExit(f"refused: benchmark films with a tuning film's pixels: {same}")
    film_id, (name, d) = min(nearest.items(), key=lambda x: x[1][1])
    return (
        f"pixel check: {len(films)} films against the decodable films of shared/data/cxr: none "
        f"the same (closest: {film_id} ~ {name} at {d:.1f} grey levels; a film against itself "
        f"re-encoded scores under 1; refused under {SAME_FILM_MAD:.0f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=("select", "build", "check"))
    for name in ("nih", "nih-meta", "mhh"):
        parser.add_argument(f"--{name}", type=Path, help=f"local snapshot of the {name} source")
    parser.add_argument("--counts", default="nih=84,mhh=38")
    args = parser.parse_args()
    given = {k: Snapshot(p) for k, p in (("nih", args.nih), ("mhh", args.mhh)) if p}
    if args.command == "select":
        counts = {k: int(v) for k, v in (kv.split("=") for kv in args.counts.split(","))}
        films = select(given["nih"], Snapshot(args.nih_meta), given["mhh"], counts)
        print(f"{len(films)} films in {MANIFEST}")
    elif args.command == "build":
        print(f"{build(given)} films written to {FILMS}")
    else:
        print(check_cache(cached_films()))


if __name__ == "__main__":
    main()
