"""Build the optional C accelerator of the reader (dicomkit.codec._scan); all metadata is in pyproject.toml.

``optional=True``: without a C compiler the build skips it and the reader uses its pure-Python scan.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "dicomkit.codec._scan",
            ["src/dicomkit/codec/_scan.c"],
            optional=True,
            extra_compile_args=["-O2"],
        )
    ]
)
