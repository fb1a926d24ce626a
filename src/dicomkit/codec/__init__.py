"""Byte-level codec: reading and writing data sets, values and character sets."""
