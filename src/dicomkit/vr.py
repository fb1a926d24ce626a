"""Value Representations (PS3.5 section 6.2, Table 6.2-1) and their per-VR rules.

``VR`` is a ``StrEnum``: ``VR.PN == "PN"``. Each member knows its explicit-VR header
form (PS3.5 7.1.2), padding byte, whether it is text, whether the Specific Character
Set applies, whether backslash separates multiple values, and its maximum length.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "BINARY_NUMBER_FORMATS",
    "BYTES_VRS",
    "CHARSET_VRS",
    "LONG_HEADER_VRS",
    "MULTI_TEXT_VRS",
    "TEXT_VRS",
    "VR",
]


class VR(StrEnum):
    AE = "AE"
    AS = "AS"
    AT = "AT"
    CS = "CS"
    DA = "DA"
    DS = "DS"
    DT = "DT"
    FD = "FD"
    FL = "FL"
    IS = "IS"
    LO = "LO"
    LT = "LT"
    OB = "OB"
    OD = "OD"
    OF = "OF"
    OL = "OL"
    OV = "OV"
    OW = "OW"
    PN = "PN"
    SH = "SH"
    SL = "SL"
    SQ = "SQ"
    SS = "SS"
    ST = "ST"
    SV = "SV"
    TM = "TM"
    UC = "UC"
    UI = "UI"
    UL = "UL"
    UN = "UN"
    UR = "UR"
    US = "US"
    UT = "UT"
    UV = "UV"

    @property
    def long_header(self) -> bool:
        """True when explicit VR uses 2 reserved bytes and a 32-bit length (PS3.5 7.1.2)."""
        return self.value in LONG_HEADER_VRS

    @property
    def is_text(self) -> bool:
        return self.value in TEXT_VRS

    @property
    def is_bytes(self) -> bool:
        return self.value in BYTES_VRS

    @property
    def uses_charset(self) -> bool:
        """True when the Specific Character Set (0008,0005) applies (PS3.5 6.1.2.3)."""
        return self.value in CHARSET_VRS

    @property
    def is_multi_text(self) -> bool:
        """Text VRs whose values are separated by backslash."""
        return self.value in MULTI_TEXT_VRS

    @property
    def pad_byte(self) -> bytes:
        """Padding to even length: NUL for UI and binary VRs, space for text (PS3.5 6.2)."""
        return b" " if self.value in TEXT_VRS and self.value != "UI" else b"\x00"

    @property
    def max_length(self) -> int | None:
        """Maximum length of one value in bytes (characters for charset VRs), if limited."""
        return MAX_LENGTHS.get(self.value)

    @property
    def struct_format(self) -> str | None:
        """The ``struct`` format character of one binary number, or None."""
        return BINARY_NUMBER_FORMATS.get(self.value)


LONG_HEADER_VRS = frozenset({"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"})
TEXT_VRS = frozenset(
    {"AE", "AS", "CS", "DA", "DS", "DT", "IS", "LO", "LT", "PN", "SH", "ST", "TM", "UC", "UI", "UR", "UT"}
)
CHARSET_VRS = frozenset({"LO", "LT", "PN", "SH", "ST", "UC", "UT"})
MULTI_TEXT_VRS = TEXT_VRS - {"LT", "ST", "UT", "UR"}
BYTES_VRS = frozenset({"OB", "OD", "OF", "OL", "OV", "OW", "UN"})
BINARY_NUMBER_FORMATS = {
    "US": "H",
    "SS": "h",
    "UL": "L",
    "SL": "l",
    "FL": "f",
    "FD": "d",
    "SV": "q",
    "UV": "Q",
}
MAX_LENGTHS = {
    "AE": 16,
    "AS": 4,
    "CS": 16,
    "DA": 8,
    "DS": 16,
    "DT": 26,
    "IS": 12,
    "LO": 64,
    "LT": 10240,
    "PN": 64,
    "SH": 16,
    "ST": 1024,
    "TM": 14,
    "UI": 64,
}
