"""Chest anatomy learned from public data: the lungs, the heart and the clavicles of a frontal
film, segmented by a small U-Net, and the landmarks the image checks measure from.

The model (``data/anatomy.onnx``; its model card is ``training/anatomy/README.md``) reads a
256x256 film, dense tissue bright. A film of any size is area-resized so that its long side is
256 pixels, percentile-stretched and histogram-equalised exactly as the training films were,
and centred on a black square; its masks are returned for the film's own field at that working
resolution, with ``scale`` film pixels per mask pixel.

Right and left are the patient's, as the model reads them from the anatomy next to each lung
(heart, stomach bubble): on a PA film hung as usual the right lung is on the image's left. A
left-right mirrored film keeps the names with the anatomy, so its heart shows on the image's
left; a film turned by 90 or 180 degrees gives a layout that is not upright.

One ONNX Runtime session is created per ``AnatomyModel``, on one thread, and reused; nothing is
ever downloaded. Create the model once (``default_model()`` does) and hand it to the checks.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import onnxruntime as ort  # type: ignore[import-untyped]
from numpy.typing import NDArray
from PIL import Image

from service.engines.rules._morphology import components
from service.engines.rules.pixels import WorkingImage, derived
from service.errors import EngineError, InvalidInputError

MODEL_PATH = Path(__file__).with_name("data") / "anatomy.onnx"
INPUT_SIZE = 256
MIN_SIDE = 32
STRUCTURES = ("right_lung", "left_lung", "heart", "right_clavicle", "left_clavicle")
Structure = Literal["right_lung", "left_lung", "heart", "right_clavicle", "left_clavicle"]
HeartSide = Literal["image_left", "image_right", "central"]
Mask = NDArray[np.bool_]

_MIN_LUNG_SHARE = 0.01  # a lung smaller than this share of the field is taken as not found
_MIN_HEART_SHARE = 0.005
_MIN_CLAVICLE_SHARE = 0.0005
_HEART_SIDE_SHARE = 0.6  # share of the heart one side of the midline that names its side
# Mean certainty below which the layout is not trusted: held-out JSRT films and the real films
# of the shared data score 0.96-0.99; inverted films 0.84-0.94, turned films 0.86-0.93.
_MIN_CONFIDENCE = 0.95
_UNSURE = "the model is unsure of the anatomy"
# A film turned by 90 or 180 degrees: turned back, its layout is upright and the model is this
# much surer of it than of the film as it came. On the dev films of bench/quality/images.py,
# 17 of 20 turned films and none of 68 clean ones met it (clean films score 0.90-0.99 as they
# are and at most 0.97 turned).
_TURN_MARGIN = 0.02
# An inverted film read with its grey scale reversed: some collections' upright films score
# 0.90-0.95, so the bar is lower than _MIN_CONFIDENCE; clean dev films reversed scored at most
# 0.92 (and always below themselves as they came).
_MIN_INVERTED_CONFIDENCE = 0.93
# The heart's width over the thorax's, at least, for the model's heart to be trusted: an adult
# heart is 0.4-0.5 of the chest; on the dev films of bench/quality/images.py the model's heart
# was narrower than 0.3 only where it was misplaced (clean films at 0.11-0.24).
MIN_HEART_WIDTH = 0.3

__all__ = [
    "MIN_HEART_WIDTH",
    "Anatomy",
    "AnatomyModel",
    "Box",
    "HeartSide",
    "Landmarks",
    "LungLandmarks",
    "Point",
    "Turn",
    "default_model",
    "of_image",
    "reads_inverted",
    "segment",
    "turn_of",
    "working_mask",
]


@dataclass(frozen=True, slots=True)
class Point:
    row: float
    col: float


@dataclass(frozen=True, slots=True)
class Box:
    """Film pixels, bottom and right exclusive."""

    top: float
    left: float
    bottom: float
    right: float

    @property
    def height(self) -> float:
        return self.bottom - self.top

    @property
    def width(self) -> float:
        return self.right - self.left


@dataclass(frozen=True, slots=True)
class LungLandmarks:
    box: Box
    centre: Point  # centroid
    apex: Point  # the highest point
    base_row: float  # below the lowest row
    costophrenic: Point  # the lowest lateral point: the costophrenic angle
    area: float  # film pixels


@dataclass(frozen=True, slots=True)
class Landmarks:
    """Derived measurements, in film pixels (rows down, columns right); None when the
    structures they come from were not found."""

    right_lung: LungLandmarks | None
    left_lung: LungLandmarks | None
    midline_col: float | None  # half-way between the lungs' lateral edges
    thorax_width: float | None  # from one lung's lateral edge to the other's
    heart_box: Box | None
    heart_width: float | None
    heart_side: HeartSide | None  # where most of the heart lies, from the midline
    heart_share_image_right: float | None  # share of the heart's area right of the midline
    right_clavicle_medial: Point | None  # the clavicle's end nearest the midline
    left_clavicle_medial: Point | None

    @property
    def cardiothoracic_ratio(self) -> float | None:
        if self.heart_width is None or not self.thorax_width:
            return None
        return self.heart_width / self.thorax_width


@dataclass(frozen=True, slots=True)
class Anatomy:
    """The segmentation of one film."""

    masks: Mask  # (5, rows, cols) in STRUCTURES order, at the working resolution
    scale: float  # film pixels per mask pixel, both axes
    shape: tuple[int, int]  # rows, columns of the film
    landmarks: Landmarks
    confidence: float  # mean winning probability over the pixels given to a structure
    problems: tuple[str, ...]  # why the layout is not that of an upright frontal chest

    @property
    def upright(self) -> bool:
        """Both lungs and the heart found, side by side and above one another as on an
        upright frontal film (a mirrored film is still upright), and the model sure of them.
        When False, do not measure from the landmarks."""
        return not self.problems

    @property
    def lungs_found(self) -> bool:
        """Both lungs found, side by side (the landmarks of each can be measured)."""
        return not any(
            p == "a lung was not found" or p == "the lungs are not side by side"
            for p in self.problems
        )

    @property
    def heart_between_lungs(self) -> bool:
        """A plausible layout to measure between the lungs from: both lungs found side by side
        and the heart below their middle (no layout problem; the model may be unsure), the
        heart's centre between the lungs' centres and the heart at least ``MIN_HEART_WIDTH``
        of the thorax wide. When False the zone between the model's lungs may hold the spine
        or a lung, not the mediastinum."""
        marks = self.landmarks
        right, left, heart = marks.right_lung, marks.left_lung, marks.heart_box
        ratio = marks.cardiothoracic_ratio
        if self.layout_problems or right is None or left is None or heart is None:
            return False
        if ratio is None or ratio < MIN_HEART_WIDTH:
            return False
        low, high = sorted((right.centre.col, left.centre.col))
        return low < (heart.left + heart.right) / 2 < high

    @property
    def layout_problems(self) -> tuple[str, ...]:
        """The problems of the layout itself, without the model's own uncertainty: films of
        some collections (soft, processed differently) score under the certainty bar while
        their anatomy is found right."""
        return tuple(p for p in self.problems if not p.startswith(_UNSURE))

    def mask(self, structure: Structure) -> Mask:
        return np.asarray(self.masks[STRUCTURES.index(structure)], dtype=np.bool_)


class AnatomyModel:
    """The anatomy network behind one ONNX Runtime session (one thread, CPU)."""

    def __init__(self, path: Path = MODEL_PATH) -> None:
        if not path.is_file():
            raise EngineError(f"anatomy model missing: {path}")
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        try:
            self._session = ort.InferenceSession(
                str(path), options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime raises its own RuntimeError subclasses
            raise EngineError(f"anatomy model not loaded from {path.name}: {exc}") from exc
        self._input = self._session.get_inputs()[0].name

    def segment(self, pixels: NDArray[Any]) -> Anatomy:
        """Segment a display-ready monochrome film (2-D, any size and numeric type, dense
        tissue bright; its 0.5th..99.5th percentiles are stretched to 0..1 here)."""
        square, field, scale, film_shape = _prepare(pixels)
        try:
            logits = self._session.run(None, {self._input: square[None, None]})[0][0]
        except Exception as exc:
            raise EngineError(f"anatomy model failed: {exc}") from exc
        top, left, rows, cols = field
        prob = _sigmoid(np.asarray(logits, np.float32)[:, top : top + rows, left : left + cols])
        return _assemble(prob, scale, film_shape)


_default: AnatomyModel | None = None
_default_lock = threading.Lock()


def default_model() -> AnatomyModel:
    """The shipped model, loaded on first use and shared."""
    global _default
    with _default_lock:
        if _default is None:
            _default = AnatomyModel()
        return _default


def segment(pixels: NDArray[Any]) -> Anatomy:
    """Segment ``pixels`` with the shipped model."""
    return default_model().segment(pixels)


def of_image(image: WorkingImage) -> Anatomy:
    """The anatomy of a working image as displayed, segmented once per image."""
    return derived(image.pixels, "anatomy", lambda: segment(image.pixels))


@dataclass(frozen=True, slots=True)
class Turn:
    """How far a film is turned from upright: the quarter turns (counter-clockwise, as
    ``numpy.rot90``) that bring it back, and the model's certainty each way."""

    quarter_turns: int  # 1 or 3: turned by 90 degrees; 2: upside down
    confidence_as_is: float
    confidence_turned_back: float

    @property
    def degrees(self) -> int:
        return 180 if self.quarter_turns == 2 else 90


def turn_of(image: WorkingImage) -> Turn | None:
    """The turn that makes the film upright, when the film as it came is not: its layout is
    wrong or the model unsure, and turned back the layout is upright and clearly surer.
    The extra segmentations run only for films whose layout is in doubt."""

    def compute() -> Turn | None:
        as_is = of_image(image)
        if not as_is.problems:
            return None
        best: Turn | None = None
        for k in (1, 2, 3):
            turned = segment(np.rot90(image.pixels, k))
            if turned.layout_problems:
                continue
            if turned.confidence >= as_is.confidence + _TURN_MARGIN and (
                best is None or turned.confidence > best.confidence_turned_back
            ):
                best = Turn(k, as_is.confidence, turned.confidence)
        return best

    return derived(image.pixels, "anatomy_turn", compute)


def reads_inverted(image: WorkingImage) -> bool:
    """The film's grey scale is inverted: as it came its layout is in doubt, with the grey
    scale reversed its layout is upright, the model fairly sure of it and clearly surer."""

    def compute() -> bool:
        as_is = of_image(image)
        if not as_is.problems:
            return False
        inverted = segment(1.0 - image.pixels)
        return (
            not inverted.layout_problems
            and inverted.confidence >= _MIN_INVERTED_CONFIDENCE
            and inverted.confidence >= as_is.confidence + _TURN_MARGIN
        )

    return derived(image.pixels, "anatomy_inverted", compute)


def working_mask(
    anatomy: Anatomy, structures: tuple[Structure, ...], shape: tuple[int, int]
) -> Mask:
    """The union of ``structures`` at the resolution of the image the anatomy was segmented
    from (``shape``: its rows and columns), by nearest mask pixel."""
    _, mask_rows, mask_cols = anatomy.masks.shape
    union = np.zeros((mask_rows, mask_cols), dtype=bool)
    for name in structures:
        union |= anatomy.mask(name)
    rows = np.minimum(((np.arange(shape[0]) + 0.5) / anatomy.scale).astype(int), mask_rows - 1)
    cols = np.minimum(((np.arange(shape[1]) + 0.5) / anatomy.scale).astype(int), mask_cols - 1)
    return np.asarray(union[np.ix_(rows, cols)], dtype=np.bool_)


def _prepare(
    pixels: NDArray[Any],
) -> tuple[NDArray[np.float32], tuple[int, int, int, int], float, tuple[int, int]]:
    """The network's input square, the film's field in it (top, left, rows, cols), the film
    pixels per working pixel and the film's shape."""
    image = np.asarray(pixels)
    if image.ndim != 2 or min(image.shape) < MIN_SIDE or not np.issubdtype(image.dtype, np.number):
        raise InvalidInputError(f"not a monochrome film: shape {image.shape}, {image.dtype}")
    image = np.nan_to_num(image.astype(np.float32, copy=False))
    rows, cols = image.shape
    scale = max(rows, cols) / INPUT_SIZE
    size = (max(1, round(cols / scale)), max(1, round(rows / scale)))
    method = Image.Resampling.BOX if scale > 1 else Image.Resampling.BILINEAR
    small = np.asarray(Image.fromarray(image).resize(size, method), dtype=np.float32)
    low, high = np.percentile(small, [0.5, 99.5])
    stretched = np.clip((small - low) / max(float(high - low), 1e-6), 0.0, 1.0)
    small = _equalise(np.round(stretched * 255).astype(np.uint8))
    h, w = small.shape
    top, left = (INPUT_SIZE - h) // 2, (INPUT_SIZE - w) // 2
    square = np.zeros((INPUT_SIZE, INPUT_SIZE), np.float32)
    square[top : top + h, left : left + w] = small
    return square, (top, left, h, w), scale, (rows, cols)


def _equalise(levels: NDArray[np.uint8]) -> NDArray[np.float32]:
    """Histogram equalisation of uint8 levels to 0..1, as the training data were prepared
    (``training/anatomy/prepare.py``): each level becomes the share of pixels below it,
    rescaled so the lowest level stays 0 (black borders stay black) and the highest is 1."""
    hist = np.bincount(levels.ravel(), minlength=256).astype(np.float64)
    below = np.cumsum(hist) - hist
    top = below[int(levels.max())]
    return np.asarray(below[levels] / max(top, 1.0), dtype=np.float32)


def _sigmoid(x: NDArray[np.float32]) -> NDArray[np.float32]:
    return np.asarray(1.0 / (1.0 + np.exp(-np.clip(x, -30.0, 30.0))), dtype=np.float32)


def _assemble(prob: NDArray[np.float32], scale: float, shape: tuple[int, int]) -> Anatomy:
    """Masks from probabilities (each structure one connected piece), landmarks, plausibility."""
    area = prob.shape[1] * prob.shape[2]
    right_lung, left_lung = split_pair(prob[0], prob[1], _MIN_LUNG_SHARE * area)
    heart = keep_largest(prob[2] > 0.5, _MIN_HEART_SHARE * area)
    right_clav, left_clav = split_pair(prob[3], prob[4], _MIN_CLAVICLE_SHARE * area)
    masks = np.stack([fill_holes(m) for m in (right_lung, left_lung, heart, right_clav, left_clav)])
    found = masks.any(axis=0)
    winner = prob.max(axis=0)
    confidence = float(winner[found].mean()) if found.any() else 0.0
    landmarks = _landmarks(masks, scale)
    problems = _problems(masks, landmarks, scale)
    if confidence < _MIN_CONFIDENCE:
        problems += (f"{_UNSURE} (confidence {confidence:.2f})",)
    return Anatomy(masks, scale, shape, landmarks, confidence, problems)


def _landmarks(masks: Mask, scale: float) -> Landmarks:
    right_lung, left_lung, heart, right_clav, left_clav = masks
    lungs = right_lung | left_lung
    midline: float | None = None
    thorax: float | None = None
    if right_lung.any() and left_lung.any():
        cols = np.flatnonzero(lungs.any(axis=0))
        midline = (cols[0] + cols[-1] + 1) / 2 * scale
        thorax = (cols[-1] + 1 - cols[0]) * scale
    centre = midline if midline is not None else masks.shape[2] / 2 * scale
    heart_box = box_of(heart, scale)
    share: float | None = None
    side: HeartSide | None = None
    if heart_box is not None:
        heart_cols = np.nonzero(heart)[1]
        share = float(np.mean((heart_cols + 0.5) * scale > centre))
        side = "central"
        if share >= _HEART_SIDE_SHARE:
            side = "image_right"
        elif share <= 1 - _HEART_SIDE_SHARE:
            side = "image_left"
    return Landmarks(
        right_lung=lung_landmarks(right_lung, scale, centre),
        left_lung=lung_landmarks(left_lung, scale, centre),
        midline_col=midline,
        thorax_width=thorax,
        heart_box=heart_box,
        heart_width=None if heart_box is None else heart_box.width,
        heart_side=side,
        heart_share_image_right=share,
        right_clavicle_medial=clavicle_medial_end(right_clav, scale, centre),
        left_clavicle_medial=clavicle_medial_end(left_clav, scale, centre),
    )


def _problems(masks: Mask, marks: Landmarks, scale: float) -> tuple[str, ...]:
    """What keeps the layout from that of an upright frontal chest (empty when it is one)."""
    right, left = marks.right_lung, marks.left_lung
    if right is None or left is None:
        return ("a lung was not found",)
    problems: list[str] = []
    for name, lung in (("right", right), ("left", left)):
        if lung.box.height < 0.9 * lung.box.width:
            problems.append(f"the {name} lung is wider than it is tall")
    drow = abs(right.centre.row - left.centre.row)
    dcol = abs(right.centre.col - left.centre.col)
    if dcol < 1.5 * drow or dcol < 0.15 * masks.shape[2] * scale:
        problems.append("the lungs are not side by side")
    heart = marks.heart_box
    if heart is None:
        problems.append("the heart was not found")
    else:
        lung_row = (right.centre.row + left.centre.row) / 2
        lung_base = max(right.base_row, left.base_row)
        heart_row = (heart.top + heart.bottom) / 2
        if heart_row <= lung_row or heart_row >= lung_base:
            problems.append("the heart is not in the lower half of the lung fields")
    for name, point in (
        ("right", marks.right_clavicle_medial),
        ("left", marks.left_clavicle_medial),
    ):
        if point is not None and point.row > min(right.centre.row, left.centre.row):
            problems.append(f"the {name} clavicle lies below the middle of the lungs")
    return tuple(problems)


# -- mask geometry (working pixels in, film pixels out; 4-connected pieces from _morphology) ---


def fill_holes(mask: Mask) -> Mask:
    """``mask`` with the holes in it filled (background not connected to its outside)."""
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        return mask
    r0, r1, c0, c1 = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    crop = np.pad(mask[r0:r1, c0:c1], 1)
    outside = next(p for p in components(~crop) if p[0, 0])
    filled = mask.copy()
    filled[r0:r1, c0:c1] = ~outside[1:-1, 1:-1]
    return filled


def keep_largest(mask: Mask, min_pixels: float) -> Mask:
    """The largest connected piece of ``mask``; empty when it is smaller than ``min_pixels``."""
    pieces = components(mask)
    if not pieces or pieces[0].sum() < min_pixels:
        return np.zeros_like(mask, dtype=bool)
    return pieces[0]


def split_pair(
    prob_a: NDArray[np.float32], prob_b: NDArray[np.float32], min_pixels: float
) -> tuple[Mask, Mask]:
    """Two paired structures (right and left lung, or clavicle) from their probabilities.

    The two largest pieces of their union are named by the mean difference of the two
    probabilities over each piece, so a lung is never split between the names; one piece
    alone (one lung missing, or both joined) is divided pixel by pixel.
    """
    pieces = [p for p in components(np.maximum(prob_a, prob_b) > 0.5)[:2] if p.sum() >= min_pixels]
    if len(pieces) == 2:
        votes = [float((prob_a - prob_b)[p].mean()) for p in pieces]
        first, second = pieces if votes[0] >= votes[1] else pieces[::-1]
        return first, second
    if len(pieces) == 1:
        a_side = pieces[0] & (prob_a >= prob_b)
        return (
            keep_largest(a_side, min_pixels),
            keep_largest(pieces[0] & ~a_side, min_pixels),
        )
    empty = np.zeros(prob_a.shape, dtype=bool)
    return empty, empty.copy()


def box_of(mask: Mask, scale: float) -> Box | None:
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        return None
    return Box(
        float(rows[0] * scale),
        float(cols[0] * scale),
        float((rows[-1] + 1) * scale),
        float((cols[-1] + 1) * scale),
    )


def lung_landmarks(mask: Mask, scale: float, midline: float) -> LungLandmarks | None:
    """Box, centre, apex, base and costophrenic angle of one lung; lateral is away from
    ``midline`` (film column)."""
    box = box_of(mask, scale)
    if box is None:
        return None
    rows, cols = np.nonzero(mask)
    centre = _point(rows.mean(), cols.mean(), scale)
    top = rows.min()
    apex = _point(top, cols[rows == top].mean(), scale)
    lateral = 1 if centre.col > midline else -1
    corner = int(np.argmax(rows + lateral * cols))
    angle = _point(rows[corner], cols[corner], scale)
    return LungLandmarks(box, centre, apex, box.bottom, angle, float(rows.size) * scale * scale)


def clavicle_medial_end(mask: Mask, scale: float, midline: float) -> Point | None:
    """The end of a clavicle nearest the midline: the mean row of its three most medial
    columns."""
    rows, cols = np.nonzero(mask)
    if rows.size == 0:
        return None
    medial = 1 if (cols.mean() + 0.5) * scale < midline else -1
    end = cols.max() if medial > 0 else cols.min()
    near = np.abs(cols - end) <= 2
    return _point(rows[near].mean(), end, scale)


def _point(row: float, col: float, scale: float) -> Point:
    """The film position of the centre of working pixel (row, col)."""
    return Point(float((row + 0.5) * scale), float((col + 0.5) * scale))
