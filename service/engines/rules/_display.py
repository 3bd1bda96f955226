"""Is the image displayed the right way up? Predicates on the anatomy's layout.

On a chest radiograph displayed correctly the mediastinum is a bright vertical band between two
darker lung fields, and the lower zones (diaphragm, abdomen) are brighter than the upper ones.
:mod:`.orientation` reports images that fail these tests; the other anatomy checks are not run
on them (:func:`._pixel_findings.pixel_check`), because lungs found in an inverted or rotated
image are not lungs, and one display error must be counted once (DESIGN section 4).
"""

from __future__ import annotations

from service.engines.rules.lungs import Anatomy

ROTATED_BAND = 0.25  # vertical contrast of a band lying across the image
ROTATED_MARGIN = 0.2  # and by how much it beats the horizontal one
INVERTED_BAND = -0.15  # a dark middle band
UPSIDE_DOWN = -0.15  # lower zones darker than upper ones
UPRIGHT_BAND = 0.15


def looks_inverted(a: Anatomy) -> bool:
    return a.horizontal_contrast < INVERTED_BAND and a.top_bottom < -0.1


def looks_rotated(a: Anatomy) -> bool:
    return (
        a.vertical_contrast > ROTATED_BAND
        and a.vertical_contrast - a.horizontal_contrast > ROTATED_MARGIN
    )


def looks_upside_down(a: Anatomy) -> bool:
    return a.top_bottom < UPSIDE_DOWN and a.horizontal_contrast > UPRIGHT_BAND


def misdisplayed(a: Anatomy) -> bool:
    """Inverted, rotated by 90 degrees or upside down."""
    return looks_inverted(a) or looks_rotated(a) or looks_upside_down(a)
