"""The image benchmark's field-of-view faults and the films' readings: a cut always reaches past
the anatomy it names (the fixed band alone left both costophrenic angles in films with much
abdomen below the lungs, and the case was labelled a cut that was not there), and every manifest
film has a reading. Synthetic arrays only: no film is needed."""

from __future__ import annotations

import numpy as np
import pytest

from bench.quality import film_faults as ff
from bench.quality.films import read_landmarks, read_manifest, usable

# A film with much abdomen: angles at 55-58 % of the height, walls 20 % in from each side.
LOW_LUNGS = ff.Landmarks(
    apex_top=0.22,
    angle_image_left=0.58,
    angle_image_right=0.55,
    wall_image_left=0.20,
    wall_image_right=0.80,
)
FILM = np.linspace(0.0, 1.0, 1000 * 800).reshape(1000, 800)


@pytest.mark.parametrize("seed", range(20))
def test_costophrenic_cut_lies_above_the_higher_angle(seed: int) -> None:
    cut = ff.cut_costophrenic(FILM, np.random.default_rng(seed), LOW_LUNGS)
    assert cut.shape[0] <= int(1000 * (0.55 - 0.04))  # both angles gone, with the reading's margin
    plain = ff.cut_costophrenic(FILM, np.random.default_rng(seed))
    assert 0.66 * 1000 - 1 <= plain.shape[0] <= 0.74 * 1000  # without a reading: the fixed band
    assert cut.shape[0] < plain.shape[0]  # the fixed band would have left these angles in


@pytest.mark.parametrize("seed", range(20))
def test_apex_and_wall_cuts_reach_past_the_anatomy(seed: int) -> None:
    apex = ff.cut_apices(FILM, np.random.default_rng(seed), LOW_LUNGS)
    assert 1000 - apex.shape[0] >= int(1000 * (0.22 + 0.04))
    wall = ff.cut_lateral_wall(FILM, np.random.default_rng(seed), LOW_LUNGS)
    removed = 800 - wall.shape[1]
    assert removed >= int(800 * (0.20 + 0.04))
    # the side removed is the one the cut names: the kept columns are one end of the film
    kept_left = np.array_equal(wall, FILM[:, : wall.shape[1]])
    kept_right = np.array_equal(wall, FILM[:, removed:])
    assert kept_left != kept_right


def test_a_film_whose_anatomy_the_band_covers_is_cut_as_before() -> None:
    """A typical film (angles at 85 %) keeps the fixed band: the reading only deepens cuts."""
    typical = ff.Landmarks(0.08, 0.85, 0.86, 0.06, 0.94)
    for seed in range(10):
        with_reading = ff.cut_costophrenic(FILM, np.random.default_rng(seed), typical)
        plain = ff.cut_costophrenic(FILM, np.random.default_rng(seed))
        assert with_reading.shape == plain.shape


def test_make_case_passes_the_reading_to_field_cuts_only() -> None:
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian

    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.Rows, ds.Columns, ds.BitsStored, ds.BitsAllocated = 1000, 800, 12, 16
    ds.SamplesPerPixel, ds.PixelRepresentation = 1, 0
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.PatientID = "P1"
    ds.PixelData = (FILM * 4095).astype(np.uint16).tobytes()
    ds["PixelData"].VR = "OW"
    case = ff.make_case(
        ds, "cut: costophrenic angles", np.random.default_rng(1), "c0001-x", False, LOW_LUNGS
    )
    assert case.Rows <= int(1000 * 0.51)
    blurred = ff.make_case(
        ds, "unsharp (blur)", np.random.default_rng(1), "c0002-x", False, LOW_LUNGS
    )
    assert (blurred.Rows, blurred.Columns) == (1000, 800)


def test_every_manifest_film_has_a_reading_and_edge_films_are_left_out() -> None:
    films = read_manifest()
    readings = read_landmarks()
    assert {f.film_id for f in films} == set(readings)
    for film_id, reading in readings.items():
        m = reading.marks
        assert 0 <= m.apex_top < min(m.angle_image_left, m.angle_image_right) <= 1, film_id
        assert 0 <= m.wall_image_left < 0.5 < m.wall_image_right <= 1, film_id
        assert reading.reaches_edge <= {"top", "bottom", "left", "right"}, film_id
    kept, left_out = usable(films)
    assert len(kept) + len(left_out) == len(films)
    assert all(not readings[f.film_id].reaches_edge for f in kept)
    assert left_out  # some source films do reach an edge (e.g. apices cut at the top)
