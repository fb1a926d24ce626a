"""DCMTK's compressors as an oracle: dcmcrle / dcmcjpls / dcmcjpeg (lossless) outputs of native
pydicom test files decode in dicomkit to exactly the pixels of the original file."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

np = pytest.importorskip("numpy")
pytest.importorskip("imagecodecs")

import dicomkit  # noqa: E402
from dicomkit.pixels import pixel_array  # noqa: E402

TOOLS = {
    "rle": (["dcmcrle"], "1.2.840.10008.1.2.5"),
    "jpeg-ls": (["dcmcjpls"], "1.2.840.10008.1.2.4.80"),
    "jpeg-sv1": (["dcmcjpeg", "+e1"], "1.2.840.10008.1.2.4.70"),
    "jpeg-14": (["dcmcjpeg", "+el"], "1.2.840.10008.1.2.4.57"),
}

# native source files: 8/16/32-bit, signed, RGB by pixel and by plane, palette, YBR_FULL, multi-frame
SOURCES = {
    "CT_small.dcm": set(TOOLS),
    "MR_small.dcm": set(TOOLS),
    "emri_small.dcm": set(TOOLS),
    "SC_rgb.dcm": set(TOOLS),
    "SC_rgb_2frame.dcm": set(TOOLS),
    "SC_rgb_16bit.dcm": set(TOOLS),
    "SC_rgb_32bit.dcm": {"rle"},  # the JPEG family stops at 16 bits
    "OBXXXX1A.dcm": set(TOOLS),
    "color-pl.dcm": set(TOOLS),
    "SC_ybr_full_uncompressed.dcm": set(TOOLS),
    "rtdose_1frame.dcm": {"rle"},
}

CASES = [(name, tool) for name, tools in SOURCES.items() for tool in sorted(tools)]


@pytest.mark.parametrize(("name", "tool"), CASES)
def test_dcmtk_compressed_decodes_to_original(
    pydicom_test_files: list[Path], tmp_path: Path, name: str, tool: str
) -> None:
    command, uid = TOOLS[tool]
    if shutil.which(command[0]) is None:
        pytest.skip(f"DCMTK {command[0]} is not installed")
    source = next(f for f in pydicom_test_files if f.name == name)
    out = tmp_path / "out.dcm"
    proc = subprocess.run([*command, str(source), str(out)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    original = dicomkit.read(source)
    compressed = dicomkit.read(out)
    assert compressed.meta is not None and compressed.meta.TransferSyntaxUID == uid
    want = pixel_array(original, as_rgb=False)
    got = pixel_array(compressed, as_rgb=False)
    assert got.shape == want.shape
    assert np.array_equal(got, want)
