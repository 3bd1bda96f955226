"""One way from a stored DICOM image to display pixels: the audit page, the LLM and the rules
engine all see the same grey levels of a film.

DICOM's greyscale pipeline (PS3.4 N.2.1.1), step by step:

1. **Decode** the first frame (:func:`decode`): a multi-frame object shows its first frame;
   PALETTE COLOR goes through its palette; colour becomes its luminance unless the caller keeps
   colour (the audit page does).
2. **Modality LUT** (:func:`modality_values`): a Modality LUT Sequence, else Rescale Slope and
   Intercept (pydicom's ``apply_modality_lut``). A slope of 0 or a rescale that is not a number
   is ignored: it would flatten or break the image, and the header checks report it.
3. **VOI** (:func:`display_image`): the caller's window as given; else the file's VOI LUT
   Sequence, else the file's first usable window (Window Center/Width, shaped by its VOI LUT
   Function: LINEAR, LINEAR_EXACT or SIGMOID; pydicom's ``apply_windowing``), else the full
   range of the image; the file's VOI output is then stretched over the whole display range. So
   a window wider than the values the image holds (the NEMA CR chest: 0-30000 over values
   874-26479) does not leave the film washed out, and the default window the page reports is the
   file's window narrowed to those values, which draws the same picture. A window is unusable
   when its width is not a number, is <= 0, or is < 1 for LINEAR (PS3.3 C.11.2.1.2.1).

   Why the full range and not percentiles when a file has no window: the LLM's burned-in text
   detector (:mod:`service.engines.llm.redact`) is tuned on this display; a 0.5-99.5 percentile
   stretch raises the edge contrast of clean NIH films enough that it blacks out 4 % of a clean
   film beyond its fixed zones (its tests allow 1 %).
4. **Polarity** (:func:`inverted`): MONOCHROME1 is inverted, so dense tissue is always bright.
   Presentation LUT Shape is not read: a DX image states INVERSE exactly when it is MONOCHROME1.

The result is a float image in 0..1 in display polarity. The rules engine takes steps 1, 2 and 4
without VOI (:func:`grey_levels`): its checks are tuned on percentile-scaled modality values, and
a file's window would move those thresholds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from pydicom import dcmread
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.multival import MultiValue
from pydicom.pixels.processing import (
    apply_color_lut,
    apply_modality_lut,
    apply_voi,
    apply_windowing,
)
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian

from service.errors import InvalidInputError, RadqcError

FloatImage = NDArray[np.float64]
_PIXEL_KEYWORDS = ("PixelData", "FloatPixelData", "DoubleFloatPixelData")
_FUNCTIONS = ("LINEAR", "LINEAR_EXACT", "SIGMOID")
_LUMA = np.array([0.299, 0.587, 0.114])  # ITU-R BT.601, as pydicom's YBR_FULL and Pillow's "L"


class ImageDecodeError(RadqcError):
    """The stored object could not be read as an image, or its pixels could not be decoded."""


class NoPixelData(ImageDecodeError):
    """The stored object has no pixel data (a header-only or dose-report object)."""


@dataclass(frozen=True, slots=True)
class Window:
    """A VOI window in modality units (after rescale)."""

    center: float
    width: float

    def __post_init__(self) -> None:
        if not self.width > 0:
            raise InvalidInputError("window width must be greater than 0", location="width")


@dataclass(frozen=True, slots=True)
class DisplayImage:
    """What a viewer shows of a stored image."""

    pixels: FloatImage  # 0..1, dense tissue bright; (h, w), or (h, w, 3) for kept colour
    default_window: Window  # the file's VOI as a window over the image's values
    value_range: tuple[float, float]  # lowest and highest modality value of the frame


def read_image(path: str | Path) -> Dataset:
    """The stored file with its pixel data. A legacy file without file meta gets the transfer
    syntax pydicom read it with, so that its pixels can be decoded."""
    try:
        ds = dcmread(path, force=True)
    except Exception as exc:  # pydicom and the OS raise many types for an unreadable file
        raise ImageDecodeError(f"cannot read the DICOM file: {type(exc).__name__}") from exc
    if not any(keyword in ds for keyword in _PIXEL_KEYWORDS):
        raise NoPixelData("the object has no pixel data")
    meta = getattr(ds, "file_meta", None)
    if not isinstance(meta, Dataset):
        meta = FileMetaDataset()
        ds.file_meta = meta
    if "TransferSyntaxUID" not in meta:
        explicit = ds.original_encoding[0] is False
        meta.TransferSyntaxUID = ExplicitVRLittleEndian if explicit else ImplicitVRLittleEndian
    return ds


def decode(ds: Dataset) -> NDArray[Any]:
    """The stored values of the first frame as pydicom decodes them (YBR already as RGB):
    ``(h, w)``, or ``(h, w, 3)`` for colour."""
    if not any(keyword in ds for keyword in _PIXEL_KEYWORDS):
        raise NoPixelData("the object has no pixel data")
    try:
        ds.pixel_array_options(index=0)  # only the first frame is decoded
        return first_frame(np.asarray(ds.pixel_array), ds)
    except Exception as exc:  # pydicom raises many types for undecodable pixel data
        raise ImageDecodeError(f"cannot decode pixel data: {type(exc).__name__}") from exc


def first_frame(arr: NDArray[Any], ds: Dataset) -> NDArray[Any]:
    """The first frame of decoded stored values, a palette image through its palette."""
    palette = photometric(ds) == "PALETTE COLOR"
    colour = palette or _samples(ds) == 3
    if arr.ndim == (4 if colour else 3):
        arr = arr[0]
    if palette and arr.ndim == 2:
        arr = np.asarray(apply_color_lut(arr, ds))
    return arr


def photometric(ds: Dataset) -> str:
    """PhotometricInterpretation as labelled, upper-cased; ``""`` when absent or unreadable."""
    try:
        return str(ds.get("PhotometricInterpretation", "") or "").strip(" \x00\t\r\n").upper()
    except Exception:  # a malformed value is no label
        return ""


def inverted(ds: Dataset) -> bool:
    """Whether the stored grey levels run the other way from the display (MONOCHROME1)."""
    return photometric(ds) == "MONOCHROME1"


def luminance(frame: NDArray[Any]) -> NDArray[Any]:
    """The grey levels of a colour frame (BT.601 luma, rounded to the stored integer type);
    a greyscale frame unchanged. By hand: pydicom's ``convert_color_space`` takes 8 bits only."""
    if frame.ndim != 3:
        return frame
    grey: NDArray[np.float64] = np.asarray(frame[..., :3], dtype=np.float64) @ _LUMA
    if np.issubdtype(frame.dtype, np.integer):
        return np.asarray(np.rint(grey), dtype=frame.dtype)
    return grey


def modality_values(frame: NDArray[Any], ds: Dataset) -> NDArray[Any]:
    """Stored values through the Modality LUT (PS3.3 C.11.1); unchanged when there is none."""
    table = _lut_table(ds, "ModalityLUTSequence")
    if table is not None:
        return _look_up(frame, *table)
    slope, intercept = _first_number(ds, "RescaleSlope"), _first_number(ds, "RescaleIntercept")
    if slope is None or intercept is None or slope == 0:
        return frame
    return np.asarray(apply_modality_lut(frame, ds))


def grey_levels(frame: NDArray[Any], ds: Dataset) -> NDArray[np.float32]:
    """Modality values in display polarity (MONOCHROME1 negated), without VOI: the higher,
    the denser. Colour counts by its luminance. The rules engine's working image starts here."""
    values = np.array(modality_values(luminance(frame), ds), dtype=np.float32)
    if inverted(ds):
        np.negative(values, out=values)
    return values


def display_image(
    ds: Dataset, window: Window | None = None, *, colour: bool = False
) -> DisplayImage:
    """The display-ready first frame of ``ds``: Modality LUT, VOI, polarity, in 0..1.

    ``window`` replaces the file's VOI (the auditor's sliders) and is applied as given, without
    stretching; the file's VOI LUT Function still shapes it. ``colour`` keeps a colour image in
    colour; VOI does not apply to colour."""
    frame = decode(ds)
    if frame.ndim == 3:
        return _colour(frame, ds, keep=colour)
    if frame.ndim != 2 or not np.issubdtype(frame.dtype, np.number) or frame.size == 0:
        raise ImageDecodeError(f"unsupported pixel array of shape {frame.shape}")
    values = modality_values(frame, ds)
    span = (float(np.min(values)), float(np.max(values)))
    function = voi_function(ds)
    lut = _lut_table(ds, "VOILUTSequence")
    default = default_window(ds, span, lut)
    if window is not None:
        shown = apply_window(values, window, function)
    elif lut is not None:
        shown = _stretch(_look_up(values, *lut))
    else:
        shown = _stretch(apply_window(values, default, function))
    if inverted(ds):
        shown = 1.0 - shown
    return DisplayImage(shown, default, span)


def to_uint8(pixels: NDArray[Any]) -> NDArray[np.uint8]:
    """0..1 display pixels as 8-bit grey levels."""
    return np.asarray(np.round(np.clip(pixels, 0.0, 1.0) * 255.0), dtype=np.uint8)


def voi_function(ds: Dataset) -> str:
    """The file's VOI LUT Function; LINEAR when absent or not one DICOM defines."""
    try:
        name = str(ds.get("VOILUTFunction", "") or "").strip().upper()
    except Exception:  # a malformed value: the default function
        return "LINEAR"
    return name if name in _FUNCTIONS else "LINEAR"


def file_window(ds: Dataset) -> Window | None:
    """The file's first window (Window Center/Width), None when absent or unusable."""
    center, width = _first_number(ds, "WindowCenter"), _first_number(ds, "WindowWidth")
    if center is None or width is None or width <= 0:
        return None
    if width < 1 and voi_function(ds) == "LINEAR":
        return None
    return Window(center, width)


def default_window(
    ds: Dataset, span: tuple[float, float], lut: tuple[int, NDArray[Any]] | None = None
) -> Window:
    """The window a viewer starts from: the file's VOI (its VOI LUT as the window over which the
    LUT changes, else its first usable window) narrowed to ``span``, the lowest and highest value
    the image holds; the whole span when the file names no usable VOI. A SIGMOID window is kept
    as it is (narrowing would change its curve), as is a window that misses the span."""
    function = "LINEAR" if lut is not None else voi_function(ds)
    named = _lut_window(*lut) if lut is not None else file_window(ds)
    if named is None:
        return _window_over(*span, function)
    if function == "SIGMOID":
        return named
    start, stop = _interval(named, function)
    start, stop = max(start, span[0]), min(stop, span[1])
    return _window_over(start, stop, function) if stop > start else named


def _interval(window: Window, function: str) -> tuple[float, float]:
    """The values a linear window maps from black to white (PS3.3 C.11.2.1.2.1, C.11.2.1.3.2:
    LINEAR's centre and width count whole values)."""
    if function == "LINEAR":
        half = (max(window.width, 1.0) - 1) / 2
        return window.center - 0.5 - half, window.center - 0.5 + half
    return window.center - window.width / 2, window.center + window.width / 2


def _window_over(start: float, stop: float, function: str) -> Window:
    """The linear window that maps ``start`` to black and ``stop`` to white."""
    if function == "LINEAR":
        return Window((start + stop) / 2 + 0.5, stop - start + 1)
    return Window((start + stop) / 2, max(stop - start, 1.0))


def apply_window(values: NDArray[Any], window: Window, function: str = "LINEAR") -> FloatImage:
    """A VOI window function (PS3.3 C.11.2.1.2, C.11.2.1.3) with pydicom, scaled to 0..1.

    pydicom scales its output to the stored bit range and the rescale of the dataset it is
    given; a one-bit unsigned dataset without rescale makes that range exactly 0..1. LINEAR
    needs a width of at least 1: a narrower one is the threshold at the centre it tends to."""
    width = max(window.width, 1.0) if function == "LINEAR" else window.width
    voi = Dataset()
    voi.PhotometricInterpretation = "MONOCHROME2"
    voi.BitsStored = 1
    voi.PixelRepresentation = 0
    voi.WindowCenter = _ds_number(window.center)
    voi.WindowWidth = _ds_number(width)
    voi.VOILUTFunction = function
    out = apply_windowing(np.asarray(values, dtype=np.float64), voi)
    return np.clip(np.asarray(out, dtype=np.float64), 0.0, 1.0)


def _lut_table(ds: Dataset, keyword: str) -> tuple[int, NDArray[Any]] | None:
    """A LUT sequence's first item as (first input value, table), None when absent or unreadable.

    pydicom reads the LUT Data (US or OW, either byte order) but its look-up is not used: in
    pydicom 3.0 ``apply_voi`` keeps indices in the entries' integer type, so an 8-bit LUT of more
    than 256 entries wraps, and ``apply_modality_lut`` refuses 10-15-bit entries. The table is
    read with 16-bit entries (which holds both) and indexed by :func:`_look_up`."""
    try:
        items = ds.get(keyword)
        if not items:
            return None
        entries, first, bits = (int(v) for v in items[0].LUTDescriptor)
        item = Dataset()
        item.add_new(0x00283002, "SS" if first < 0 else "US", [entries, first, 16])
        item["LUTData"] = items[0]["LUTData"]
        holder = Dataset()  # the byte order of OW data comes from the file meta, else the read
        meta = getattr(ds, "file_meta", None)
        if isinstance(meta, Dataset) and "TransferSyntaxUID" in meta:
            holder.file_meta = FileMetaDataset(meta)
        holder.set_original_encoding(*ds.original_encoding)
        setattr(holder, keyword, Sequence([item]))
        inputs = np.arange(first, first + (entries or 2**16))
        read = apply_voi if keyword == "VOILUTSequence" else apply_modality_lut
        table = np.asarray(read(inputs, holder))
    except Exception:  # a malformed LUT is not used: the rescale or window applies instead
        return None
    return (first, table) if table.size and bits <= 16 else None


def _look_up(values: NDArray[Any], first: int, table: NDArray[Any]) -> NDArray[Any]:
    """Values through a LUT: below its first input the first entry, past its end the last."""
    index = np.clip(np.rint(values).astype(np.int64) - first, 0, table.size - 1)
    return np.asarray(table[index])


def _stretch(out: NDArray[Any]) -> FloatImage:
    """VOI output scaled to 0..1 between its lowest and highest value in the image."""
    shown = np.asarray(out, dtype=np.float64)
    low, high = float(shown.min()), float(shown.max())
    if not high > low:
        return np.zeros_like(shown)
    return (shown - low) / (high - low)


def _lut_window(first: int, table: NDArray[Any]) -> Window | None:
    """The LINEAR window closest to a VOI LUT: over the inputs where it changes. The page's
    sliders start from it, so resetting them does not jump to another picture."""
    changes = np.flatnonzero(np.diff(table.astype(np.int64)))
    if not changes.size:
        return None
    return _window_over(first + int(changes[0]), first + int(changes[-1]) + 1, "LINEAR")


def _colour(frame: NDArray[Any], ds: Dataset, *, keep: bool) -> DisplayImage:
    """Colour values are display values already: scaled by their bit depth, no VOI."""
    bits = _first_number(ds, "BitsStored")
    if frame.dtype == np.uint8:
        top = 255.0
    elif photometric(ds) != "PALETTE COLOR" and bits is not None and 1 <= bits <= 16:
        top = 2.0 ** int(bits) - 1
    else:
        top = max(float(np.max(frame)), 1.0)
    pixels = np.asarray(frame[..., :3] if keep else luminance(frame), dtype=np.float64) / top
    return DisplayImage(np.clip(pixels, 0.0, 1.0), Window(top / 2, top + 1), (0.0, top))


def _samples(ds: Dataset) -> int:
    return int(_first_number(ds, "SamplesPerPixel") or 1)


def _ds_number(number: float) -> float:
    """A float a DS element accepts (pydicom refuses more than 16 characters)."""
    return float(f"{number:.10g}")


def _first_number(ds: Dataset, keyword: str) -> float | None:
    """The element's first value as a finite number; None when absent, empty or malformed."""
    try:
        value = ds.get(keyword)
        if isinstance(value, MultiValue | list | tuple):
            value = value[0]
        if value is None or value == "":
            return None
        number = float(value)
    except Exception:  # malformed value: treated as absent
        return None
    return number if math.isfinite(number) else None
