"""Which instruction set the rolling kernels and stream.Window's tick run on.

These kernels are compiled three times: for baseline x86-64 (SSE2, two
doubles per vector), for AVX2 (four) and for AVX-512 (eight). At import,
trackerr picks the widest one this CPU runs (AVX-512, else AVX2, else the
baseline), unless the environment variable
``TRACKERR_SIMD`` names one (``baseline``, ``avx2`` or ``avx512``; an unknown or
unavailable name makes the import fail with a message saying what is
available). Results are bit-identical whichever runs: every lane computes what
the one-lane code computes, in the same order.
"""

from __future__ import annotations

from . import _core


def simd() -> str:
    """The rolling kernels' instruction set: ``'baseline'``, ``'avx2'`` or ``'avx512'``."""
    return _core.simd()


def simd_available() -> list[str]:
    """The instruction sets this machine runs, narrowest first."""
    return list(_core.simd_available())


def set_simd(name: str) -> str:
    """Select the rolling kernels' instruction set for this process; returns the previous one.

    Raises
    ------
    TypeError
        If ``name`` is not a string.
    ValueError
        If ``name`` is not one of ``'baseline'``, ``'avx2'``, ``'avx512'``, or this
        machine cannot run it (see :func:`simd_available`).
    """
    if not isinstance(name, str):
        raise TypeError(f"simd name must be a string, not {type(name).__name__} (={name!r})")
    return _core.set_simd(name)
