"""``dicomkit json2dcm``: a DICOM file from the DICOM JSON Model (PS3.18 F.2).

``dicomkit json2dcm IN.json OUT.dcm [--transfer-syntax SYNTAX]`` reads one JSON object
(IN ``-`` is standard input; the output of ``dicomkit dump --json FILE`` is one) and writes
it as a Part 10 file, atomically. Values come in with ``InlineBinary``; a ``BulkDataURI``
is read when it is a ``file:`` URI or a path relative to IN's folder. Elements of group
0002 in the JSON become the File Meta Information; the transfer syntax is
``--transfer-syntax``, else the JSON's (0002,0010), else Explicit VR Little Endian.
``dicomkit dump --json FILE | dicomkit json2dcm - OUT`` gives a file whose JSON is FILE's.
"""

from __future__ import annotations

import argparse
import os
import sys
from urllib.parse import unquote, urlparse

from dicomkit.cli import Output, describe_error
from dicomkit.codec.json import BulkDataLoader
from dicomkit.dataset import Dataset
from dicomkit.errors import DecodeError, DicomError
from dicomkit.tag import Tag
from dicomkit.vr import VR

__all__ = ["run"]


def _loader(base: str) -> BulkDataLoader:
    def load(tag: Tag, vr: VR, uri: str) -> bytes:
        parsed = urlparse(uri)
        if parsed.scheme not in ("", "file"):
            raise DecodeError(f"cannot fetch BulkDataURI {uri!r}: only file: URIs and paths", tag=tag)
        path = unquote(parsed.path)
        if not os.path.isabs(path):
            path = os.path.join(base, path)
        with open(path, "rb") as fh:
            return fh.read()

    return load


def run(args: argparse.Namespace, out: Output) -> int:
    import dicomkit
    from dicomkit.codec.json import from_json

    src: str = args.input
    try:
        if src == "-":
            text = sys.stdin.buffer.read()
            base = os.getcwd()
        else:
            with open(src, "rb") as fh:
                text = fh.read()
            base = os.path.dirname(os.path.abspath(src))
        lines = [line for line in text.splitlines() if line.strip()]
        if len(lines) > 1 and all(line.lstrip().startswith(b"{") for line in lines):
            raise DecodeError(f"{len(lines)} JSON objects (one per line): give one data set")
        ds = from_json(text, bulk_data_loader=_loader(base))
        meta_tags = [elem.tag for elem in ds if elem.tag >> 16 == 0x0002]
        if meta_tags:
            meta = Dataset([ds[tag] for tag in meta_tags])
            for tag in meta_tags:
                del ds[tag]
            ds.meta = meta
        dicomkit.write(ds, args.output, transfer_syntax=args.transfer_syntax)
    except (OSError, DicomError) as exc:
        out.error(src, describe_error(exc, src))
        return 1
    return 0
