"""Pixel data as numpy arrays (needs numpy; the JPEG family needs imagecodecs: ``dicomkit[codecs]``).

``pixel_array(ds, frame=None)`` and ``iter_frames(ds)`` decode native, RLE, deflated and
JPEG-family pixel data (see :mod:`dicomkit.pixels.decode`; ``pixel_array(path)`` and
``read_pixels(path)`` read only the bytes needed, native pixels straight into the array); ``convert_color_space`` and
``apply_palette`` handle colour (:mod:`dicomkit.pixels.color`); ``to_display`` and the modality,
VOI and presentation LUT functions make 8-bit display images (:mod:`dicomkit.pixels.display`);
``set_pixel_data`` stores an array as native Pixel Data (:mod:`dicomkit.pixels.encode`) and
``compress``/``decompress``/``transcode`` move between native and encapsulated transfer syntaxes
(:mod:`dicomkit.pixels.compress`); ``volume`` builds a 3-D array with its patient-space affine from a
series and ``to_nifti`` turns it into a NIfTI image (:mod:`dicomkit.pixels.volume`, needs nibabel).
"""

from __future__ import annotations

from dicomkit.pixels.color import apply_palette, convert_color_space, palette_lut
from dicomkit.pixels.compress import ENCODERS, SYNTAX_ALIASES, compress, decompress, transcode
from dicomkit.pixels.decode import (
    DECODERS,
    PixelInfo,
    TruncatedPixelDataWarning,
    iter_frames,
    pixel_array,
    pixel_info,
    read_pixels,
)
from dicomkit.pixels.display import (
    VOI_FUNCTIONS,
    apply_modality_lut,
    apply_presentation_lut,
    apply_voi_lut,
    apply_windowing,
    modality_units,
    to_display,
)
from dicomkit.pixels.encode import set_pixel_data
from dicomkit.pixels.volume import Volume, VolumeWarning, nifti_affine, to_nifti, volume

__all__ = [
    "DECODERS",
    "ENCODERS",
    "SYNTAX_ALIASES",
    "VOI_FUNCTIONS",
    "PixelInfo",
    "TruncatedPixelDataWarning",
    "Volume",
    "VolumeWarning",
    "apply_modality_lut",
    "apply_palette",
    "apply_presentation_lut",
    "apply_voi_lut",
    "apply_windowing",
    "compress",
    "convert_color_space",
    "decompress",
    "iter_frames",
    "modality_units",
    "nifti_affine",
    "palette_lut",
    "pixel_array",
    "pixel_info",
    "read_pixels",
    "set_pixel_data",
    "to_display",
    "to_nifti",
    "transcode",
    "volume",
]
