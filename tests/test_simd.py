"""Runtime choice of the kernels' instruction set (trackerr.simd).

Every copy of the rolling kernels (baseline SSE2, AVX2, AVX-512, as far as
this machine runs them) must give the same bits on the adversarial cases,
in 1-D and on panels of every layout, for every public rolling function.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import trackerr

ROOT = Path(__file__).resolve().parent.parent
ROLLING = [
    "rolling_tracking_error",
    "rolling_active_return",
    "rolling_information_ratio",
    "rolling_beta",
    "rolling_alpha",
    "rolling_correlation",
    "rolling_r_squared",
]


def _adversarial(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Large levels, regime changes, constant runs, NaN and inf, tiny values."""
    b = np.concatenate(
        [
            1e6 + rng.normal(0, 1e-3, n // 5),
            rng.normal(0, 1, n // 5) * 10 ** rng.uniform(-3, 8, n // 5),
            np.full(n // 5, 0.25),
            rng.normal(0, 1e-3, n - 3 * (n // 5)),
        ]
    )
    p = b + rng.normal(0, 1e-4, n)
    p[n // 3 : n // 3 + 40] = 0.5  # a stale portfolio price
    p[n // 2] = np.nan
    b[n // 2 + 300] = np.inf
    p[-500:-480] = b[-500:-480]  # active return exactly 0 for a while
    return p, b


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return bool(np.array_equal(a, b, equal_nan=True))


def test_simd_reports_an_available_choice():
    available = trackerr.simd_available()
    assert available[0] == "baseline"
    assert trackerr.simd() in available
    assert set(available) <= {"baseline", "avx2", "avx512"}


def test_default_choice_is_the_widest_available():
    res = subprocess.run(
        [sys.executable, "-c", "import trackerr; print(trackerr.simd())"],
        env={k: v for k, v in os.environ.items() if k != "TRACKERR_SIMD"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == trackerr.simd_available()[-1]


@pytest.mark.parametrize("name", ROLLING)
@pytest.mark.parametrize("window", [21, 252])
def test_every_instruction_set_gives_the_same_bits_1d(each_simd, name, window):
    rng = np.random.default_rng(window)
    p, b = _adversarial(rng, 30_000)  # several segments, lanes of every width busy
    fn = getattr(trackerr, name)
    kw = {"periods_per_year": 252} if name in ("rolling_alpha", "rolling_active_return") else {}
    got = each_simd(lambda: fn(p, b, window, min_periods=5, **kw))
    first = next(iter(got.values()))
    assert np.isfinite(first).sum() > len(p) // 2  # the data exercise real values
    for isa, values in got.items():
        assert _same(values, first), isa


@pytest.mark.parametrize("layout", ["C", "F", "strided"])
def test_every_instruction_set_gives_the_same_bits_panel(each_simd, layout):
    rng = np.random.default_rng(7)
    cols = [_adversarial(rng, 5000) for _ in range(11)]
    p = np.stack([c[0] for c in cols], axis=1)
    b = cols[0][1]
    if layout == "F":
        p = np.asfortranarray(p)
    elif layout == "strided":
        p = np.repeat(p, 2, axis=1)[:, ::2]
    got = each_simd(lambda: trackerr.rolling_stats(p, b, 63, min_periods=10, threads=2))
    first = next(iter(got.values()))
    for isa, stats in got.items():
        for field in stats._fields:
            assert _same(getattr(stats, field), getattr(first, field)), (isa, field)
    # and a panel column equals the 1-D kernel on that column, bit for bit
    for c in (0, 5, 10):
        one = trackerr.rolling_beta(np.ascontiguousarray(p[:, c]), b, 63, min_periods=10)
        assert _same(first.beta[:, c], one)


def test_set_simd_refuses_unknown_and_unavailable_names():
    with pytest.raises(ValueError, match=r"simd \(='sse9'\) must be one of baseline, avx2, avx512"):
        trackerr.set_simd("sse9")
    with pytest.raises(TypeError, match="must be a string"):
        trackerr.set_simd(4)  # type: ignore[arg-type]
    if "avx512" not in trackerr.simd_available():
        with pytest.raises(ValueError, match="not available on this machine"):
            trackerr.set_simd("avx512")
    assert trackerr.set_simd(trackerr.simd()) == trackerr.simd()


def _import_with(value: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, TRACKERR_SIMD=value)
    return subprocess.run(
        [sys.executable, "-c", "import trackerr; print(trackerr.simd())"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_environment_variable_forces_a_choice():
    res = _import_with("baseline")
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "baseline"
    res = _import_with("neon")
    assert res.returncode != 0
    assert "TRACKERR_SIMD (='neon') must be one of" in res.stderr


def test_kernel_copies_include_every_standard_header_before_the_target_pragma():
    """kernels_impl.hpp includes each standard header the library uses before
    it enables AVX, so no standard-library body is compiled with AVX (the
    linker could keep that copy for the whole extension: a crash on CPUs
    without AVX)."""
    impl = (ROOT / "cpp/bindings/kernels_impl.hpp").read_text()
    before = impl[: impl.index("#pragma GCC push_options")]
    pre = set(re.findall(r"#include <([a-z_]+)>", before))
    used: set[str] = set()
    for header in (ROOT / "cpp/include/trackerr").rglob("*.hpp"):
        used |= set(re.findall(r"#include <([a-z_]+)>", header.read_text()))
    missing = used - pre
    assert not missing, f"add to kernels_impl.hpp before the pragma: {sorted(missing)}"


def test_every_library_declaration_is_inside_the_isa_namespace():
    """A declaration outside TRACKERR_ISA_BEGIN/END would be shared by the copies."""
    for header in (ROOT / "cpp/include/trackerr").rglob("*.hpp"):
        text = header.read_text()
        if header.name in ("isa.hpp", "trackerr.hpp"):
            continue
        opens = re.findall(r"^namespace trackerr(::\w+)? \{", text, flags=re.M)
        assert opens, header
        assert all(o == "" for o in opens), f"{header.name}: nested namespace outside the ISA block"
        assert text.count("namespace trackerr {") == text.count("TRACKERR_ISA_BEGIN"), header.name
