"""Declares the compiled extension ltrr_fast._core; all other metadata is in pyproject.toml.

Builds target the baseline of the machine's architecture (x86-64 with SSE2 on Intel and AMD),
so a wheel runs on any CPU of that architecture. Set LTRR_NATIVE=1 to build for this CPU only.
"""

import os
from glob import glob

from pybind11.setup_helpers import Pybind11Extension, build_ext
from setuptools import setup

flags = ["-O3", "-fvisibility=hidden", "-Wall", "-Wextra", "-Wno-unused-parameter"]
if os.environ.get("LTRR_NATIVE") == "1":
    flags.append("-march=native")

setup(
    ext_modules=[
        Pybind11Extension(
            "ltrr_fast._core",
            sorted(glob("csrc/*.cpp")),
            include_dirs=["csrc"],
            libraries=["roaring", "stemmer"],
            cxx_std=17,
            extra_compile_args=flags,
        )
    ],
    cmdclass={"build_ext": build_ext},
)
