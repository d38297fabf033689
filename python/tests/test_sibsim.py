"""The Python package against the command line: the same bits, the same
errors, a released GIL and a cancellable run.

The command line is found through SIBSIM_CLI (tests/python.rs sets it to
the binary cargo built) or at target/release/sibsim.
"""

import json
import math
import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

import sibsim

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "scenarios"
HAMEENLINNA = SCENARIOS / "hameenlinna-icehearts.toml"
LAPSET = SCENARIOS / "lapset-sib.toml"


def cli() -> str:
    path = os.environ.get("SIBSIM_CLI") or str(ROOT / "target" / "release" / "sibsim")
    if not Path(path).exists():
        if os.environ.get("CI"):
            pytest.fail(f"no sibsim binary at {path}")
        pytest.skip("no sibsim binary: build it with cargo build --release")
    return path


def cli_run(tmp_path: Path, scenario: Path, *args: str) -> Path:
    out = tmp_path / "cli"
    subprocess.run(
        [cli(), "run", str(scenario), "--quiet", "--out", str(out), *args],
        check=True,
        capture_output=True,
    )
    return out


def same_bits(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))


@pytest.mark.parametrize("scenario", [HAMEENLINNA, LAPSET], ids=["contract", "portfolio"])
def test_every_statistic_equals_the_cli_summary_bit_for_bit(tmp_path, scenario):
    out = cli_run(tmp_path, scenario, "--replications", "300", "--seed", "11")
    results = sibsim.run(scenario, replications=300, seed=11, threads=2)
    folder = out / results.name
    summary = json.loads((folder / "summary.json").read_text())
    compared = 0
    for row in results.summary.itertuples():
        if row.field in ("expected", "expected_shortfall_5", "n"):
            continue
        name = row.statistic if row.contract in (results.name, "pooled") else f"contracts.{row.contract}.{row.statistic}"
        want = summary["statistics"][name][row.field]
        assert same_bits(row.value, float("nan") if want is None else want), (name, row.field, row.value, want)
        compared += 1
    assert compared > 100
    for row in results.probabilities.itertuples():
        name = row.event if row.contract in (results.name, "pooled") else f"contracts.{row.contract}.{row.event}"
        assert same_bits(row.p, summary["probabilities"][name]["p"]), name
    # And every file, byte for byte.
    written = results.write(tmp_path / "py")
    for path in folder.iterdir():
        assert (written / path.name).read_bytes() == path.read_bytes(), path.name
    assert results.to_json() == (folder / "summary.json").read_text()


def test_overrides_and_replications_follow_the_cli(tmp_path):
    out = cli_run(
        tmp_path, HAMEENLINNA, "--replications", "50", "--keep-replications", "--set", "contract.payments[0].price=45000"
    )
    results = sibsim.run(HAMEENLINNA, replications=50, keep_replications=True, set={"contract.payments[0].price": 45000})
    frame = results.replications
    assert len(frame) == 50
    cli_frame = pd.read_csv(out / results.name / "replications.csv", **sibsim._EXACT)
    pd.testing.assert_frame_equal(frame, cli_frame, check_exact=True)
    with pytest.raises(ValueError, match="keep_replications"):
        sibsim.run(HAMEENLINNA, replications=5).replications


def test_an_input_error_names_its_file_and_key_path(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(HAMEENLINNA.read_text().replace("horizon = ", "horizon = -", 1))
    with pytest.raises(sibsim.InputError) as caught:
        sibsim.load(bad)
    error = caught.value
    assert error.file == str(bad)
    assert error.key_path == "time.horizon"
    assert error.line is not None and error.column is not None
    assert error.message
    with pytest.raises(sibsim.InputError) as caught:
        sibsim.run(HAMEENLINNA, set={"fund.capitl": 5})
    assert caught.value.key_path == "fund.capitl"
    assert "unknown key" in caught.value.message
    with pytest.raises(sibsim.InputError) as caught:
        sibsim.solve(HAMEENLINNA, "contract.payments[0].price", "investor.irr.p50")
    assert "STAT=VALUE" in caught.value.message


def test_load_describes_a_portfolio():
    portfolio = sibsim.load(LAPSET)
    assert portfolio.kind == "portfolio"
    assert "helsinki" in portfolio.contracts
    assert portfolio.currency == "EUR"
    single = sibsim.load(HAMEENLINNA, set={"contract.payments[0].price": 50000.0})
    assert single.kind == "scenario" and single.contracts == ()
    assert single.overrides == (("contract.payments[0].price", "50000.0"),)


def test_a_sweep_has_one_row_per_value_and_matches_single_runs():
    prices = [45000, 60000, 75000]
    frame = sibsim.sweep(HAMEENLINNA, {"contract.payments[0].price": prices}, replications=200)
    assert list(frame["contract.payments[0].price"]) == prices
    for price, row in zip(prices, frame.itertuples(index=False)):
        alone = sibsim.run(HAMEENLINNA, replications=200, set={"contract.payments[0].price": price})
        assert alone.statistic("payer.payments") == row[frame.columns.get_loc("payer.payments.mean")]


def test_expected_solve_tornado_and_voi_answer_as_the_cli(tmp_path):
    exact = sibsim.expected(HAMEENLINNA)
    assert exact["expected"]["payer.true_savings"] > 0
    solved = sibsim.solve(
        HAMEENLINNA, "contract.payments[0].price", "payer.payments.mean=500000", replications=200, range=(0, 200000)
    )
    assert abs(solved.json["achieved"]["value"] - 500000) <= 2 * solved.json["achieved"]["se"] + 1
    assert len(solved.table) >= 3
    bars = sibsim.tornado(HAMEENLINNA, statistics=["payer.net_savings.mean"], replications=100)
    assert len(bars.table) == len(bars.json["statistics"][0]["bars"])
    worth = sibsim.voi(HAMEENLINNA, replications=200)
    assert {"payer", "investors"} <= set(worth.table["who"])
    folder = worth.write(tmp_path / "voi")
    assert (folder / "voi.json").exists() and (folder / "report.html").exists()


def test_a_run_releases_the_gil():
    ticks = 0
    done = threading.Event()

    def work():
        sibsim.run(LAPSET, replications=3000, threads=1)
        done.set()

    runner = threading.Thread(target=work)
    runner.start()
    while not done.is_set():
        ticks += 1
        time.sleep(0.001)
    runner.join()
    # A held GIL would starve this loop for the whole run.
    assert ticks > 20, ticks


def test_ctrl_c_cancels_a_run():
    # Far more replications than a test could wait for: only cancelling ends it.
    timer = threading.Timer(0.5, lambda: os.kill(os.getpid(), signal.SIGINT))
    started = time.monotonic()
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        sibsim.run(HAMEENLINNA, replications=2_000_000, threads=2)
    timer.cancel()
    assert time.monotonic() - started < 60
