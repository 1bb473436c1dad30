"""`python -m trackerr`, the README's first command, on the shipped real data."""

from __future__ import annotations

import subprocess
import sys

import trackerr
from trackerr import datasets


def test_python_m_trackerr_demo_prints_the_real_examples():
    out = subprocess.run(
        [sys.executable, "-m", "trackerr", "demo"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    assert "Lido stETH vs ETH" in out and "Spot bitcoin ETFs vs BTC" in out
    first = out.split("Spot bitcoin ETFs")[0]
    rows = {line.split()[0]: line.split()[1:] for line in first.splitlines() if line.strip()}
    # the printed TE is the library's value on the shipped data
    r = datasets.load("steth_eth").returns(["STETH", "ETH"])
    te = trackerr.tracking_error(r[:, 0], r[:, 1], periods_per_year="crypto-daily")
    assert rows["tracking_error"] == [f"{100 * te:.2f}%"]
    for etf in ("IBIT", "FBTC", "GBTC"):
        assert etf in out


def test_cpp_headers_and_cmake_package_are_installed():
    from pathlib import Path

    include = Path(trackerr.get_include())
    assert (include / "trackerr" / "trackerr.hpp").is_file()
    assert (include / "trackerr" / "stream.hpp").is_file()
    cmake_dir = Path(trackerr.get_cmake_dir())
    assert (cmake_dir / "trackerrConfig.cmake").is_file()
    assert (cmake_dir / "trackerrTargets.cmake").is_file()
