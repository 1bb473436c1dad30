"""The interleaved timer and the issue table's bookkeeping (no timing asserted)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

import issue10
from race import calibrate, race, ratio


def test_race_interleaves_and_rotates() -> None:
    order: list[str] = []
    calls = {name: (lambda name=name: order.append(name)) for name in "abc"}
    samples = race(calls, rounds=4, target=0.0, warmup=0)
    assert {k: len(v) for k, v in samples.items()} == {"a": 4, "b": 4, "c": 4}
    timed = order[-12:]  # after the calibration calls: one of each per round
    rounds = [timed[i : i + 3] for i in range(0, 12, 3)]
    assert all(sorted(r) == ["a", "b", "c"] for r in rounds)
    assert [r[0] for r in rounds] == ["a", "b", "c", "a"]  # the order rotates


def test_ratio_is_the_median_of_paired_ratios() -> None:
    samples = {"peer": [2.0, 9.0, 3.0], "trackerr": [1.0, 3.0, 1.0]}
    # per round: 2, 3, 3 -> 3
    assert ratio(samples, "peer", "trackerr") == 3.0
    samples = {"peer": [1.0, 10.0, 10.0], "trackerr": [1.0, 1.0, 10.0]}
    assert ratio(samples, "peer", "trackerr") == 1.0  # medians alone would say 10


def test_calibrate_repeats_fast_calls() -> None:
    assert calibrate(lambda: None, target=0.001) > 1
    assert calibrate(lambda: None, target=0.0) == 1


def test_race_rejects_no_rounds() -> None:
    with pytest.raises(ValueError, match="rounds"):
        race({"a": lambda: None}, rounds=0)


def _figures() -> issue10.Figures:
    fig = issue10.Figures()
    fig.put("te_1t", "1e5", "1", 1.6)  # bar >= 1.5 on one thread: met
    fig.put("te_1t", "1e6", "1", 1.4)  # ... not at 1e6
    fig.put("te_1t", "1e5", "default", 3.0)
    fig.put("te_1t", "1e6", "default", 3.0)
    fig.put("stats_cost", "1e6", "default", 1.9)  # <= 2: met
    fig.put("stats_cost", "1e6", "1", 2.5)  # not judged
    return fig


def test_met_judges_the_named_column_at_every_size() -> None:
    fig = _figures()
    rows = {r.key: r for r in issue10.ROWS}
    assert issue10._met(fig, rows["te_1t"]) == "NO"
    assert issue10._met(fig, rows["stats_cost"]) == "yes"
    assert issue10._met(fig, rows["beta"]).startswith("?")
    assert issue10._cell(fig, rows["te_1t"], "1") == "1.60 / 1.40"


def test_render_prints_every_row_and_the_isa(tmp_path: Path) -> None:
    saved = tmp_path / "cpp.txt"
    saved.write_text("Window(252)      4.5 ns/tick (checksum 1)\nExponential  1.5 ns/tick\n")
    cpp, source = issue10.cpp_figures(saved, build=False)
    assert cpp == {"Window(252)": 4.5, "Exponential": 1.5} and "saved output" in source
    lines = issue10.render(_figures(), cpp, source, quick=True, rounds=3, seconds=1.0)
    text = "\n".join(lines)
    assert f"ISA in use: {issue10.isa()}" in text
    for row in issue10.ROWS + issue10.HOLDING:
        assert f"| {row.label} |" in text, row.label
    cpp_row = next(line for line in lines if line.startswith("| C++ stream::Window"))
    assert cpp_row.endswith("| yes |")  # 4.5 ns <= 5 ns


def test_cpp_output_of_an_executable(tmp_path: Path) -> None:
    exe = tmp_path / "fake_latency"
    exe.write_text("#!/bin/sh\necho 'Window(252)      25.0 ns/tick (checksum 1260)'\n")
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    cpp, source = issue10.cpp_figures(exe, build=False)
    assert cpp == {"Window(252)": 25.0} and source.startswith("ran ")


def test_isa_falls_back_without_dispatch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(issue10.trackerr, "simd", raising=False)
    assert issue10.isa() == "baseline (no dispatch)"
    monkeypatch.setattr(issue10.trackerr, "simd", lambda: "avx2", raising=False)
    assert issue10.isa() == "avx2"


def test_issue_table_measures_every_row() -> None:
    """The report's races run end to end (quick sizes, one round): every row
    gets a figure, or says which peer is missing."""
    fig = issue10.measure(quick=True, rounds=1)
    for row in issue10.ROWS + issue10.HOLDING:
        if row.key == "cpp_window":  # from the C++ program, not a race
            continue
        assert row.key in fig.values or row.key in fig.missing, row.key
        for by_column in fig.values.get(row.key, {}).values():
            assert row.judged in by_column, row.key
            assert all(v > 0 for v in by_column.values()), row.key
