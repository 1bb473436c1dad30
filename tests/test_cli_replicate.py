"""``trackerr replicate``: the command on small price files written here, its
errors, its charts, and the DeFi-basket demo on the shipped data, with every
figure checked against the library (trackerr.tracking_error) computed apart."""

from __future__ import annotations

import csv
import io
import json
import re
import sys

import numpy as np
import pytest

import trackerr
from trackerr import cli, datasets

pd = pytest.importorskip("pandas")

TOKENS = list(datasets.DEFI_TOKENS)


@pytest.fixture
def daqp():
    return pytest.importorskip("daqp")


def run(capsys, *args):
    """(exit status, stdout, stderr) of ``trackerr replicate ARGS``."""
    status = cli.main(["replicate", *map(str, args)])
    out = capsys.readouterr()
    return status, out.out, out.err


def prices():
    """The shipped basket's prices (tokens only) as a DataFrame."""
    ds = datasets.load("defi_basket")
    return ds.to_frame()[TOKENS]


def basket(frame):
    """The equal-weight daily-rebalanced basket's returns: the mean of the members'."""
    return frame.pct_change().iloc[1:].mean(axis=1)


@pytest.fixture
def small(tmp_path):
    """120 days of six tokens and their equal-weight basket, as a plain CSV."""
    frame = prices().iloc[:120][TOKENS[:6]]
    b = basket(frame)
    frame = frame.assign(BASKET=100 * np.concatenate([[1.0], np.cumprod(1 + b.to_numpy())]))
    file = tmp_path / "small.csv"
    frame.to_csv(file, date_format="%Y-%m-%d", float_format="%.10g")
    return file, pd.read_csv(file, index_col=0, parse_dates=True)


def held_weights(text):
    """{asset: weight} and the total row of the printed weights table."""
    lines = text.splitlines()
    start = lines.index("weights of the names held, largest first") + 2
    weights = {}
    for line in lines[start:]:
        name, value = line.split()[:2]
        if name == "total":
            return weights, float(value.rstrip("%")) / 100
        weights[name] = float(value.rstrip("%")) / 100
    raise AssertionError("no total row")


def figure(text, label):
    m = re.search(re.escape(label) + r"\s+(-?[\d.]+)%", text)
    assert m, (label, text)
    return float(m.group(1)) / 100


# --- the command on files -------------------------------------------------------------


def test_semicolon_dayfirst_file_meets_cap_and_max_names(tmp_path, capsys, daqp):
    frame = prices().iloc[:150][TOKENS[:7]]
    b = basket(frame)
    file = tmp_path / "semi.csv"
    with file.open("w") as f:  # a spreadsheet export: ';', dd/mm/yyyy, decimal commas
        f.write("Datum;" + ";".join(frame.columns) + ";Korb\n")
        level = 100.0
        for k, (day, row) in enumerate(frame.iterrows()):
            level *= 1 + (b.iloc[k - 1] if k else 0.0)
            cells = [f"{v:.8f}".replace(".", ",") for v in [*row, level]]
            f.write(day.strftime("%d/%m/%Y") + ";" + ";".join(cells) + "\n")
    status, out, err = run(capsys, file, "--benchmark", "Korb", "--max-names", "3", "--cap", "40%")
    assert status == 0, err
    weights, total = held_weights(out)
    assert total == pytest.approx(1.0, abs=1e-12)
    assert sum(weights.values()) == pytest.approx(1.0, abs=5e-4)  # printed to 0.01 %
    assert 1 <= len(weights) <= 3 and max(weights.values()) <= 0.40
    assert "read with separator ';' and decimal mark ','" in out
    assert "fit 2020-10-07 .. 2021-03-04 (149 returns)" in out
    # the exact figures, in JSON: the same weights
    status, out, _ = run(
        capsys, file, "--benchmark", "Korb", "--max-names", "3", "--cap", "0.4", "--format", "json"
    )
    doc = json.loads(out)
    assert sum(doc["weights"].values()) == pytest.approx(1.0, abs=1e-9)
    assert max(doc["weights"].values()) <= 0.40 + 1e-9 and doc["names"] <= 3
    assert {k: round(v, 4) for k, v in doc["weights"].items()} == {
        k: round(v, 4) for k, v in weights.items()
    }


def test_dates_that_read_two_ways_exit_2(tmp_path, capsys):
    rows = ["date,A,B,C"] + [
        f"{d:02d}/02/2021,{1 + 0.01 * d},{2 - 0.01 * d},{3 + 0.02 * (d % 3)}" for d in range(1, 13)
    ]
    file = tmp_path / "ambiguous.csv"
    file.write_text("\n".join(rows) + "\n")
    status, out, err = run(capsys, file, "--benchmark", "C")
    assert status == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "reads both as" in lines[0] and "--dayfirst" in lines[0]


def test_json_fields_and_figures_against_the_library(small, capsys, daqp):
    file, frame = small
    status, out, err = run(
        capsys,
        file,
        "--benchmark",
        "BASKET",
        "--max-names",
        "3",
        "--cap",
        "50%",
        "--split",
        "2020-12-20",
        "--format",
        "json",
    )
    assert status == 0, err
    doc = json.loads(out)
    for key in (
        "benchmark",
        "assets",
        "periods_per_year",
        "fit",
        "test",
        "tracking_error",
        "weights",
        "names",
        "status",
        "solve_seconds",
        "iterations",
        "contributions",
        "constraints",
        "notes",
    ):
        assert key in doc, key
    assert doc["benchmark"] == "BASKET" and doc["assets"] == TOKENS[:6]
    assert doc["periods_per_year"] == 365.0
    assert doc["constraints"]["max_names"] == 3 and doc["constraints"]["cap"] == 0.5
    assert doc["fit"] == {"start": "2020-10-07", "end": "2020-12-19", "returns": 74}
    assert doc["test"] == {"start": "2020-12-20", "end": "2021-02-02", "returns": 45}
    w = pd.Series(doc["weights"]).reindex(TOKENS[:6], fill_value=0.0)
    assert w.sum() == pytest.approx(1.0, abs=1e-9) and (w <= 0.5 + 1e-9).all()
    assert doc["names"] == int((w > 1e-9).sum()) <= 3
    r = frame.pct_change().iloc[1:]
    fit = r.index < "2020-12-20"
    te = doc["tracking_error"]
    want_in = trackerr.tracking_error(
        r.loc[fit, TOKENS[:6]].to_numpy() @ w.to_numpy(),
        r.loc[fit, "BASKET"].to_numpy(),
        periods_per_year=365,
    )
    want_out = trackerr.tracking_error(
        r.loc[~fit, TOKENS[:6]].to_numpy() @ w.to_numpy(),
        r.loc[~fit, "BASKET"].to_numpy(),
        periods_per_year=365,
    )
    assert te["ex_post"] == pytest.approx(want_in, rel=1e-9)
    assert te["out_of_sample"] == pytest.approx(want_out, rel=1e-9)
    assert te["ex_ante"] == pytest.approx(te["ex_post"], rel=1e-6)  # sample covariance
    # Euler's contributions, the benchmark's own under its name, sum to the ex-ante TE
    parts = doc["contributions"]
    assert set(parts) == {*doc["weights"], "BASKET"} and parts["BASKET"]["active"] == -1.0
    assert sum(p["total"] for p in parts.values()) == pytest.approx(te["ex_ante"], rel=1e-9)


def test_text_csv_and_json_agree(small, capsys, daqp):
    file, _ = small
    args = (file, "--benchmark", "BASKET", "--max-names", "4", "--split", "2020-12-20")
    _, text, _ = run(capsys, *args)
    _, out, err = run(capsys, *args, "--format", "csv")
    doc = json.loads(run(capsys, *args, "--format", "json")[1])
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["asset"] for r in rows] == [
        *doc["weights"],
        *(a for a in TOKENS[:6] if a not in doc["weights"]),
        "BASKET",
    ]
    weights = {r["asset"]: float(r["weight"]) for r in rows if r["weight"]}
    assert sum(weights.values()) == pytest.approx(1.0, abs=1e-9)
    for name, value in doc["weights"].items():
        assert weights[name] == value
    assert "out of sample" in err and err.startswith("trackerr: note:")
    te = doc["tracking_error"]
    assert figure(text, "realised on the fit dates (in sample)") == pytest.approx(
        te["ex_post"], abs=5e-5
    )
    assert figure(text, "realised from 2020-12-20 on (out of sample)") == pytest.approx(
        te["out_of_sample"], abs=5e-5
    )
    printed, _ = held_weights(text)
    assert list(printed) == list(doc["weights"])  # largest first


def test_min_position_and_asset_selection(small, capsys, daqp):
    file, _ = small
    status, out, err = run(
        capsys,
        file,
        "--benchmark",
        "BASKET",
        "--asset",
        "UNI",
        "--asset",
        "AAVE",
        "--asset",
        "MKR",
        "--min-position",
        "0.2",
        "--format",
        "json",
    )
    assert status == 0, err
    doc = json.loads(out)
    assert doc["assets"] == ["UNI", "AAVE", "MKR"]
    assert set(doc["weights"]) <= {"UNI", "AAVE", "MKR"}
    assert min(doc["weights"].values()) >= 0.2 - 1e-9


def test_turnover_from_current_weights(small, tmp_path, capsys, daqp):
    file, _ = small
    current = tmp_path / "current.csv"
    current.write_text("asset,weight\nUNI,50%\nAAVE,0.3\nCOMP,0.2\n")
    base = (file, "--benchmark", "BASKET", "--current", current, "--format", "json")
    held = pd.Series({"UNI": 0.5, "AAVE": 0.3, "COMP": 0.2}).reindex(TOKENS[:6], fill_value=0.0)
    doc = json.loads(run(capsys, *base, "--turnover", "0")[1])
    got = pd.Series(doc["weights"]).reindex(TOKENS[:6], fill_value=0.0)
    np.testing.assert_allclose(got, held, atol=1e-7)  # nothing may be traded
    doc = json.loads(run(capsys, *base, "--turnover", "25%")[1])
    got = pd.Series(doc["weights"]).reindex(TOKENS[:6], fill_value=0.0)
    assert (got - held).abs().sum() <= 0.25 + 1e-7
    assert doc["constraints"]["current"] == held.to_dict()
    free = json.loads(run(capsys, file, "--benchmark", "BASKET", "--format", "json")[1])
    assert free["tracking_error"]["ex_ante"] < doc["tracking_error"]["ex_ante"]


def test_whole_lots_at_the_last_fit_prices(small, capsys, daqp):
    file, frame = small
    status, out, err = run(
        capsys,
        file,
        "--benchmark",
        "BASKET",
        "--max-names",
        "4",
        "--capital",
        "1e5",
        "--lot",
        "0.5",
        "--split",
        "2020-12-20",
        "--format",
        "json",
    )
    assert status == 0, err
    doc = json.loads(out)
    last = frame.loc[:"2020-12-19"].iloc[-1]
    assert doc["constraints"]["capital"] == 1e5 and doc["constraints"]["lot"] == 0.5
    for name, units in doc["units"].items():
        assert units / 0.5 == pytest.approx(round(units / 0.5), abs=1e-9)
        assert doc["weights"][name] == pytest.approx(units * last[name] / 1e5, rel=1e-9)
    assert doc["cash"] == pytest.approx(1 - sum(doc["weights"].values()), abs=1e-12)
    assert 0 <= doc["cash"] < 0.5
    _, text, _ = run(
        capsys,
        file,
        "--benchmark",
        "BASKET",
        "--max-names",
        "4",
        "--capital",
        "1e5",
        "--lot",
        "0.5",
        "--split",
        "2020-12-20",
    )
    assert "units" in text and "cash" in text and "100,000.00" in text
    assert "whole lots bought at the prices of 2020-12-19, the last fit date" in text


def test_missing_prices_leave_dates_out_with_a_note(small, tmp_path, capsys, daqp):
    _, frame = small
    frame = frame.copy()
    frame.iloc[10:13, 0] = np.nan
    file = tmp_path / "gaps.csv"
    frame.to_csv(file, date_format="%Y-%m-%d")
    status, out, err = run(capsys, file, "--benchmark", "BASKET", "--format", "json")
    assert status == 0, err
    doc = json.loads(out)
    assert doc["fit"]["returns"] == 120 - 3 - 1
    assert any("3 dates left out" in n and "UNI 3" in n for n in doc["notes"])


def test_out_writes_pngs_and_an_escaped_html_page(small, tmp_path, capsys, daqp):
    pytest.importorskip("matplotlib")
    _, frame = small
    file = tmp_path / "odd.csv"
    frame.rename(columns={"UNI": "U<&>NI"}).to_csv(file, date_format="%Y-%m-%d")
    out_dir = tmp_path / "charts"
    status, _, err = run(
        capsys, file, "--benchmark", "BASKET", "--split", "2020-12-20", "--out", out_dir
    )
    assert status == 0, err
    page = out_dir / "replicate.html"
    assert str(page) in err
    for png in ("replicate_growth.png", "replicate_contributions.png"):
        assert (out_dir / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = page.read_text()
    assert text.count('src="data:image/png;base64,') == 2
    assert "U&lt;&amp;&gt;NI" in text and "U<&>NI" not in text
    assert "realised from 2020-12-20 on (out of sample)" in text
    assert "Contributions to the ex-ante tracking error" in text


def test_out_without_matplotlib_still_prints_the_tables(small, tmp_path, capsys, monkeypatch, daqp):
    from trackerr import _charts

    monkeypatch.setattr(_charts, "available", lambda: False)
    file, _ = small
    status, out, err = run(capsys, file, "--benchmark", "BASKET", "--out", tmp_path / "c")
    assert status == 0
    assert "weights of the names held" in out
    assert 'pip install "trackerr[report]"' in err and not (tmp_path / "c").exists()


# --- bad input: exit 2, one line ------------------------------------------------------


@pytest.fixture
def current(tmp_path):
    file = tmp_path / "cur.csv"
    file.write_text("asset,weight\nUNI,0.6\nAAVE,0.4\n")
    return file


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--benchmark", "NOPE"], "unknown benchmark column 'NOPE'"),
        (["--benchmark", "BASKET", "--asset", "XYZ"], "unknown asset column 'XYZ'"),
        (["--benchmark", "BASKET", "--asset", "BASKET"], "is the benchmark"),
        (["--benchmark", "BASKET", "--max-names", "0"], "--max-names: must be at least 1"),
        (["--benchmark", "BASKET", "--max-names", "-2"], "--max-names: must be at least 1"),
        (["--benchmark", "BASKET", "--max-names", "two"], "not an integer"),
        (["--benchmark", "BASKET", "--cap", "40"], "at most 100%"),
        (["--benchmark", "BASKET", "--cap", "-5%"], "must be positive"),
        (["--benchmark", "BASKET", "--cap", "10%"], "infeasible"),
        (["--benchmark", "BASKET", "--cap", "20%", "--max-names", "3"], "infeasible"),
        (["--benchmark", "BASKET", "--min-position", "30%", "--cap", "20%"], "infeasible"),
        # the optimizer's own refusal, passed on: it says which constraints
        (["--benchmark", "BASKET", "--min-position", "35%", "--cap", "45%"], "(infeasible)"),
        (["--benchmark", "BASKET", "--split", "2030-01-01"], "after the last date"),
        (["--benchmark", "BASKET", "--split", "2019-01-01"], "not after the first date"),
        (["--benchmark", "BASKET", "--split", "2021-02-02"], "leaves 1 return to test"),
        (["--benchmark", "BASKET", "--split", "someday"], "cannot read --split"),
        (["--benchmark", "BASKET", "--turnover", "10%"], "--turnover needs --current"),
        (["--benchmark", "BASKET", "--current", "CUR"], "--current needs --turnover"),
        (["--benchmark", "BASKET", "--current", "/nope.csv", "--turnover", "0.1"], "no such file"),
        (["--benchmark", "BASKET", "--lot", "10"], "--lot needs --capital"),
        (["--benchmark", "BASKET", "--capital", "0"], "must be positive"),
        (["--benchmark", "BASKET", "--estimator", "ewma"], "needs --halflife"),
        (["--benchmark", "BASKET", "--halflife", "20"], "is for --estimator ewma"),
        (["--benchmark", "BASKET", "--start", "2030-01-01"], "no rows between"),
        (["--benchmark", "BASKET", "--periods-per-year", "often"], "--periods-per-year"),
        ([], "needs --benchmark"),
    ],
)
def test_bad_input_exits_2_with_one_line(small, current, capsys, args, message, daqp):
    file, _ = small
    args = [str(current) if a == "CUR" else a for a in args]
    status, out, err = run(capsys, file, *args)
    assert status == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("trackerr: error:"), err
    assert message in lines[0], lines[0]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("asset,weight\nUNI,0.5\nFOO,0.5\n", "'FOO' is not one of the assets"),
        ("asset,weight\nUNI,half\n", "not a number"),
        ("asset,weight\nUNI,0.5\nUNI,0.5\n", "appears twice"),
        ("UNI 0.5\n", "expected two columns"),
        ("", "is empty"),
    ],
)
def test_bad_current_file_exits_2(small, tmp_path, capsys, text, message, daqp):
    file, _ = small
    cur = tmp_path / "w.csv"
    cur.write_text(text)
    status, _, err = run(capsys, file, "--benchmark", "BASKET", "--current", cur, "--turnover", "1")
    lines = err.strip().splitlines()
    assert status == 2 and len(lines) == 1 and message in lines[0], err


def test_without_daqp_says_how_to_install(small, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "daqp", None)  # import daqp raises ImportError
    file, _ = small
    status, _, err = run(capsys, file, "--benchmark", "BASKET")
    lines = err.strip().splitlines()
    assert status == 2 and len(lines) == 1
    assert 'pip install "trackerr[optimize]"' in lines[0]
    status, _, err = run(capsys, "--demo")
    assert status == 2 and 'pip install "trackerr[optimize]"' in err


def test_demo_takes_no_file_or_constraints(capsys):
    for args in (
        ["--demo", "x.csv"],
        ["--demo", "--max-names", "3"],
        ["--demo", "--split", "2021"],
    ):
        status, _, err = run(capsys, *args)
        assert status == 2 and len(err.strip().splitlines()) == 1 and "--demo takes no" in err


# --- the DeFi basket: shipped data and the demo ---------------------------------------


def test_defi_basket_dataset():
    ds = datasets.load("defi_basket")
    assert ds.columns == (*TOKENS, "EW_BASKET")
    assert str(ds.dates[0]) == "2020-10-06" and str(ds.dates[-1]) == "2022-07-16"
    assert len(ds.dates) == 649 and not np.isnan(ds.prices).any()
    assert (np.diff(ds.dates).astype(int) == 1).all()  # every calendar day
    r = ds.returns()
    np.testing.assert_allclose(r[:, -1], r[:, :-1].mean(axis=1), rtol=1e-12, atol=1e-15)
    assert "defi_basket.csv" in datasets.sources() and "defi_basket" in datasets.available()


def test_demo_figures_against_the_library(tmp_path, capsys, daqp):
    status, out, err = run(capsys, "--demo", "--format", "json", "--out", tmp_path)
    assert status == 0, err
    doc = json.loads(out)
    rep = doc["replication"]
    assert rep["benchmark"] == "EW_BASKET" and rep["assets"] == TOKENS
    assert rep["constraints"]["max_names"] == 5 and rep["constraints"]["cap"] == 0.4
    assert rep["fit"] == {"start": "2020-10-07", "end": "2021-10-05", "returns": 364}
    assert rep["test"] == {"start": "2021-10-06", "end": "2022-07-16", "returns": 284}
    # the benchmark computed here from the token prices alone
    frame = prices()
    r = frame.pct_change().iloc[1:]
    b = r.mean(axis=1)
    fit = r.index < "2021-10-06"

    def realised(weights, rows):
        w = pd.Series(weights).reindex(TOKENS, fill_value=0.0).to_numpy()
        return trackerr.tracking_error(
            r.loc[rows].to_numpy() @ w, b[rows].to_numpy(), periods_per_year=365
        )

    w = rep["weights"]
    assert len(w) == rep["names"] <= 5 and max(w.values()) <= 0.4 + 1e-9
    assert sum(w.values()) == pytest.approx(1.0, abs=1e-9)
    te = rep["tracking_error"]
    assert te["ex_post"] == pytest.approx(realised(w, fit), rel=1e-9)
    assert te["out_of_sample"] == pytest.approx(realised(w, ~fit), rel=1e-9)
    assert 0.05 < te["out_of_sample"] < 0.6  # five of ten tokens: far from the basket
    ladder = {row["max_names"]: row for row in doc["by_names"]}
    assert set(ladder) == {3, 4, 5, 6, 7, 8, 9, None}
    assert ladder[5]["ex_post"] == te["ex_post"]
    everything = ladder[None]
    assert everything["names"] == 10
    assert everything["ex_post"] < 1e-6 and everything["out_of_sample"] < 1e-6  # 1/N is the basket
    assert ladder[3]["ex_ante"] > ladder[5]["ex_ante"] > ladder[9]["ex_ante"] > 1e-3
    # --out also writes the data, to rerun replicate on
    copy = pd.read_csv(tmp_path / "defi_basket.csv", index_col=0, parse_dates=True)
    assert list(copy.columns) == [*TOKENS, "EW_BASKET"] and len(copy) == 649


def test_demo_text_prints_the_figures(tmp_path, capsys, daqp):
    status, out, err = run(capsys, "--demo", "--out", tmp_path)
    assert status == 0, err
    assert "Replicating an equal-weight basket of 10 DeFi tokens with 5 of them" in out
    assert "What fewer names cost" in out and "all 10" in out
    doc = json.loads(run(capsys, "--demo", "--format", "json", "--out", tmp_path)[1])
    te = doc["replication"]["tracking_error"]
    assert figure(out, "realised on the fit dates (in sample)") == pytest.approx(
        te["ex_post"], abs=5e-5
    )
    assert figure(out, "realised from 2021-10-06 on (out of sample)") == pytest.approx(
        te["out_of_sample"], abs=5e-5
    )
    if (tmp_path / "replicate.html").exists():
        assert "What fewer names cost" in (tmp_path / "replicate.html").read_text()


def test_short_fit_warns_that_the_covariance_is_singular(small, capsys, daqp):
    file, _ = small
    status, out, err = run(capsys, file, "--benchmark", "BASKET", "--end", "2020-10-11")
    assert status == 0 and "fit 2020-10-07 .. 2020-10-11 (5 returns)" in out
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("trackerr: warning: the fit has 5 returns")


def test_help_lists_replicate(capsys):
    with pytest.raises(SystemExit):
        cli.main(["replicate", "--help"])
    text = capsys.readouterr().out
    for option in ("--max-names", "--cap", "--turnover", "--current", "--capital", "--lot"):
        assert option in text
    assert "asset and weight" in text and "units per lot" in text
    cli.main([])
    assert "replicate" in capsys.readouterr().out
