"""Declares the Cython extensions only; metadata lives in pyproject.toml.

Every ``ext/<name>.pyx`` becomes the private module ``gridplan._ext.<name>``. When a kernel
cannot be compiled (no C compiler), the install still succeeds and gridplan uses the numpy
twins, unless ``GRIDPLAN_REQUIRE_EXT=1`` is set, which makes a build failure fatal.
"""

import os
import sys
from pathlib import Path

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = Path(__file__).parent
REQUIRE_EXT = os.environ.get("GRIDPLAN_REQUIRE_EXT", "").strip().lower() in {"1", "true", "yes"}


class OptionalBuildExt(build_ext):
    """Build every extension; a failure warns (numpy twins take over) unless required."""

    def run(self):
        """Build all extensions; without a compiler, warn (or fail if required)."""
        try:
            super().run()
        except Exception as exc:  # no compiler at all
            if REQUIRE_EXT:
                raise
            print(
                f"WARNING: gridplan kernels not compiled ({exc}); numpy twins will be used",
                file=sys.stderr,
            )

    def build_extension(self, ext):
        """Build one extension; a failure warns (or fails if required)."""
        try:
            super().build_extension(ext)
        except Exception as exc:
            if REQUIRE_EXT:
                raise
            print(
                f"WARNING: {ext.name} not compiled ({exc}); its numpy twin will be used",
                file=sys.stderr,
            )


extensions = [
    Extension(
        f"gridplan._ext.{pyx.stem}",
        [str(pyx.relative_to(HERE))],
        include_dirs=[np.get_include()],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
        # no FMA contraction: keeps results reproducible across machines and close to numpy;
        # no errno from sqrt (never read), so loops with sqrt can vectorize
        extra_compile_args=["-O3", "-ffp-contract=off", "-fcx-limited-range", "-fno-math-errno"],
    )
    for pyx in sorted((HERE / "ext").glob("*.pyx"))
]

setup(
    ext_modules=cythonize(
        extensions,
        language_level=3,
        compiler_directives={"boundscheck": False, "wraparound": False, "cdivision": True},
    ),
    cmdclass={"build_ext": OptionalBuildExt},
)
