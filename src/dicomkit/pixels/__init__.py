"""Pixel data as numpy arrays (needs numpy; the JPEG family needs imagecodecs: ``dicomkit[codecs]``).

``pixel_array(ds, frame=None)`` and ``iter_frames(ds)`` decode native, RLE, deflated and
JPEG-family pixel data (see :mod:`dicomkit.pixels.decode`); ``convert_color_space`` and
``apply_palette`` handle colour (:mod:`dicomkit.pixels.color`).
"""

from __future__ import annotations

from dicomkit.pixels.color import apply_palette, convert_color_space, palette_lut
from dicomkit.pixels.decode import (
    DECODERS,
    PixelInfo,
    TruncatedPixelDataWarning,
    iter_frames,
    pixel_array,
    pixel_info,
)

__all__ = [
    "DECODERS",
    "PixelInfo",
    "TruncatedPixelDataWarning",
    "apply_palette",
    "convert_color_space",
    "iter_frames",
    "palette_lut",
    "pixel_array",
    "pixel_info",
]
