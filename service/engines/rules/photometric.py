"""``cxr.metadata`` from the pixels: a MONOCHROME1 label on MONOCHROME2 pixels.

The measurement is the orientation module's; this module only registers the check, so the
boundary of DESIGN section 4 (wrong label: metadata; inverted pixels: orientation) lives in one
place, :mod:`.orientation`.
"""

from __future__ import annotations

from service.engines.rules._pixel_findings import pixel_check
from service.engines.rules.orientation import check_photometric_label

CHECKS = (pixel_check(check_photometric_label, upright_only=False),)
