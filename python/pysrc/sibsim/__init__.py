"""sibsim from Python: the Rust Monte Carlo engine for Social Impact Bonds,
with results as pandas data frames.

>>> import sibsim
>>> results = sibsim.run("scenarios/hameenlinna-icehearts.toml", replications=2000)
>>> results.summary.query("statistic == 'investor.irr' and field == 'p50'")

Every function takes a scenario or portfolio file (or a :class:`Scenario`
from :func:`load`) and ``set={key path: value}`` overrides, exactly as the
command line's ``--set``. Runs release the GIL, so the engine's threads work
while Python waits, and Ctrl-C (a notebook's interrupt) cancels a run.
Results are the same bits as the command line's for the same file and seed:
the figures come from the very files ``sibsim run`` writes.
"""

from __future__ import annotations

import io
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

import pandas as pd

from . import _sibsim
from ._sibsim import ENGINE_VERSION, InputError

__all__ = [
    "ENGINE_VERSION",
    "InputError",
    "Scenario",
    "Results",
    "Decision",
    "load",
    "run",
    "expected",
    "sweep",
    "solve",
    "tornado",
    "voi",
]

PathLike = Union[str, "os.PathLike[str]"]


def _toml(value: Any) -> str:
    """A Python value as the TOML text ``--set`` reads."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        # repr is the shortest text that reads back as the same double.
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{json.dumps(str(k))} = {_toml(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"cannot write {type(value).__name__} {value!r} as a scenario value")


def _overrides(set: Optional[Mapping[str, Any]]) -> List[Tuple[str, str]]:
    return [(str(k), _toml(v)) for k, v in (set or {}).items()]


@dataclass(frozen=True)
class Scenario:
    """A checked scenario or portfolio file with its overrides.

    ``kind`` is ``"scenario"`` or ``"portfolio"``; ``contracts`` names a
    portfolio's contracts (empty for a single contract).
    """

    path: Path
    overrides: Tuple[Tuple[str, str], ...]
    name: str
    kind: str
    contracts: Tuple[str, ...]
    currency: str
    description: str

    def with_overrides(self, set: Optional[Mapping[str, Any]]) -> "Scenario":
        """This scenario with more overrides (checked now)."""
        return _load(self.path, list(self.overrides) + _overrides(set))


ScenarioLike = Union[Scenario, PathLike]


def _load(path: PathLike, overrides: List[Tuple[str, str]]) -> Scenario:
    name, kind, contracts, currency, description = _sibsim.load(os.fspath(path), overrides)
    return Scenario(Path(path), tuple(overrides), name, kind, tuple(contracts), currency, description)


def load(path: PathLike, set: Optional[Mapping[str, Any]] = None) -> Scenario:
    """Loads and checks a scenario or portfolio file.

    Raises :class:`InputError` (with ``file``, ``line``, ``column``,
    ``key_path`` and ``message``) when the file or an override is wrong.
    """
    return _load(path, _overrides(set))


def _resolve(scenario: ScenarioLike, set: Optional[Mapping[str, Any]]) -> Tuple[str, List[Tuple[str, str]]]:
    if isinstance(scenario, Scenario):
        return os.fspath(scenario.path), list(scenario.overrides) + _overrides(set)
    return os.fspath(scenario), _overrides(set)


# Every number must read back as the double the engine wrote: pandas 3
# parses floats exactly by default; earlier versions need "round_trip".
_EXACT = {} if int(pd.__version__.split(".")[0]) >= 3 else {"float_precision": "round_trip"}


def _csv(data: bytes) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(data), **_EXACT)


@dataclass
class Results:
    """One run: the files ``sibsim run`` writes, and data frames read from them.

    ``files`` maps each file name to its bytes (``summary.json``,
    ``summary_long.csv``, ``cashflows.csv``, ``report.html``, the SVG
    charts, and ``replications.csv`` when kept).
    """

    name: str
    files: Dict[str, bytes] = field(repr=False)

    @property
    def summary(self) -> pd.DataFrame:
        """Every statistic in long form: ``contract, statistic, field, value``.

        ``contract`` is the scenario's name for a single contract, the
        contract's name in a portfolio, and ``pooled`` for a portfolio's
        pooled figures. Fields: ``mean se sd min max p01 p05 p25 p50 p75
        p95 p99 n``, ``expected`` (exact, at central parameters) and
        ``expected_shortfall_5``.
        """
        long = _csv(self.files["summary_long.csv"])
        return long[~long["field"].isin(["p", "p_se"])].reset_index(drop=True)

    @property
    def probabilities(self) -> pd.DataFrame:
        """Each event's probability: ``contract, event, p, se``."""
        long = _csv(self.files["summary_long.csv"])
        p = long[long["field"] == "p"].set_index(["contract", "statistic"])["value"]
        se = long[long["field"] == "p_se"].set_index(["contract", "statistic"])["value"]
        out = pd.DataFrame({"p": p, "se": se}).reset_index()
        return out.rename(columns={"statistic": "event"})

    @property
    def replications(self) -> pd.DataFrame:
        """One row per replication, one column per statistic and event
        (run with ``keep_replications=True``)."""
        if "replications.csv" not in self.files:
            raise ValueError("this run did not keep its replications: run with keep_replications=True")
        return _csv(self.files["replications.csv"])

    @property
    def cashflows(self) -> pd.DataFrame:
        """Cumulative cash by cycle: the investors' and the payer's quantiles."""
        return _csv(self.files["cashflows.csv"])

    def to_json(self) -> str:
        """``summary.json``, as the command line writes it."""
        return self.files["summary.json"].decode("utf-8")

    def statistic(self, name: str, field: str = "mean", contract: Optional[str] = None) -> float:
        """One figure, e.g. ``statistic("investor.irr", "p50")``."""
        s = self.summary
        rows = s[(s["statistic"] == name) & (s["field"] == field)]
        if contract is not None:
            rows = rows[rows["contract"] == contract]
        if len(rows) != 1:
            raise KeyError(f"{name}.{field}" + (f" of {contract}" if contract else "") + f": {len(rows)} matches")
        return float(rows["value"].iloc[0])

    def write(self, out: PathLike) -> Path:
        """Writes exactly the CLI's files as ``out/<name>/`` (atomically)."""
        return Path(_sibsim.write(os.fspath(out), self.name, list(self.files.items())))


def run(
    scenario: ScenarioLike,
    replications: Optional[int] = None,
    seed: Optional[int] = None,
    threads: Optional[int] = None,
    set: Optional[Mapping[str, Any]] = None,
    keep_replications: bool = False,
) -> Results:
    """Runs a scenario or portfolio (defaults: the file's ``[run]``)."""
    path, overrides = _resolve(scenario, set)
    name, files = _sibsim.run(path, overrides, replications, seed, threads, keep_replications)
    return Results(name, dict(files))


def expected(scenario: ScenarioLike, set: Optional[Mapping[str, Any]] = None) -> Dict[str, Any]:
    """The exact expectation at central parameters (``sibsim expected``):
    ``{"scenario", "expected": {statistic: value}, "not_analytic"?}``."""
    path, overrides = _resolve(scenario, set)
    return json.loads(_sibsim.expected(path, overrides))


def sweep(
    scenario: ScenarioLike,
    vary: Mapping[str, Sequence[Any]],
    replications: Optional[int] = None,
    seed: Optional[int] = None,
    threads: Optional[int] = None,
    set: Optional[Mapping[str, Any]] = None,
) -> pd.DataFrame:
    """Runs every point of a grid on common random numbers: one row per
    value (per point of the grid with several keys), with each headline
    statistic's mean, se and quantiles and each event's probability."""
    path, overrides = _resolve(scenario, set)
    axes = [(str(k), [_toml(v) for v in values]) for k, values in vary.items()]
    _, files = _sibsim.sweep(path, overrides, axes, replications, seed, threads)
    return _csv(dict(files)["sweep.csv"])


@dataclass
class Decision:
    """What ``solve``, ``tornado`` or ``voi`` found: its JSON (as the
    command line prints it), a table, and its files."""

    name: str
    json: Dict[str, Any]
    files: Dict[str, bytes] = field(repr=False)
    table: pd.DataFrame = field(repr=False)

    def write(self, out: PathLike) -> Path:
        """Writes exactly the CLI's files as ``out/<name>/`` (atomically)."""
        return Path(_sibsim.write(os.fspath(out), self.name, list(self.files.items())))


def _decision(name: str, text: str, files: List[Tuple[str, bytes]], csv_name: str) -> Decision:
    files_by_name = dict(files)
    return Decision(name, json.loads(text), files_by_name, _csv(files_by_name[csv_name]))


def solve(
    scenario: ScenarioLike,
    vary: str,
    target: str,
    range: Optional[Tuple[float, float]] = None,
    replications: Optional[int] = None,
    seed: Optional[int] = None,
    threads: Optional[int] = None,
    set: Optional[Mapping[str, Any]] = None,
) -> Decision:
    """The value of ``vary`` at which a statistic reaches a target, e.g.
    ``solve(f, "contract.payments[0].price", "investor.irr.p50=0.05")``.
    ``json["value"]`` is the answer; ``table`` every evaluation."""
    path, overrides = _resolve(scenario, set)
    name, text, files = _sibsim.solve(path, overrides, vary, target, range, replications, seed, threads)
    return _decision(name, text, files, "solve.csv")


def tornado(
    scenario: ScenarioLike,
    statistics: Sequence[str] = (),
    low: float = 10.0,
    high: float = 90.0,
    vary: Optional[Mapping[str, Tuple[float, float]]] = None,
    replications: Optional[int] = None,
    seed: Optional[int] = None,
    threads: Optional[int] = None,
    set: Optional[Mapping[str, Any]] = None,
) -> Decision:
    """One-way sensitivity: each uncertain input at its ``low`` and
    ``high`` percentile, the rest central; ``table`` has one row per bar."""
    path, overrides = _resolve(scenario, set)
    terms = [(str(k), float(lo), float(hi)) for k, (lo, hi) in (vary or {}).items()]
    name, text, files = _sibsim.tornado(
        path, overrides, list(statistics), float(low), float(high), terms, replications, seed, threads
    )
    return _decision(name, text, files, "tornado.csv")


def voi(
    scenario: ScenarioLike,
    replications: Optional[int] = None,
    seed: Optional[int] = None,
    threads: Optional[int] = None,
    set: Optional[Mapping[str, Any]] = None,
) -> Decision:
    """The value of information (EVPI, and EVPPI per input group) for the
    payer's and the investors' decisions; ``table`` has one row per figure."""
    path, overrides = _resolve(scenario, set)
    name, text, files = _sibsim.voi(path, overrides, replications, seed, threads)
    return _decision(name, text, files, "voi.csv")
