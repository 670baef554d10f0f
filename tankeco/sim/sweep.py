"""Parameter sweeps: which values to run (grid or Latin hypercube) and running a chunk.

A sweep varies scenario keys (anything ``--set`` reaches: ``water_changes.fraction``,
``params.mu_max_aob_d``, ``feeds[0].amount_g`` ...) between a low and a high value.
``design`` gives the values of every run; ``run_chunk`` runs some of them with the
ensemble engine and returns one summary row per run.  A chunk needs nothing but plain
data (the scenario as a dict, the keys, the values), so it runs the same in this process,
in a local worker process or on a Dask worker (:mod:`tankeco.sim.distribute`) and gives
the same numbers everywhere.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from tankeco.errors import ScenarioError
from tankeco.scenario.loading import apply_overrides, validate_scenario
from tankeco.units import parse as units

METHODS = ("grid", "lhs")
_VARY = re.compile(r"^\s*([^=\s]+)\s*=\s*([^:]+?)\s*:\s*(.+?)\s*$")
_VARY_HELP = "expected KEY=LOW:HIGH, e.g. water_changes.fraction=10%:50%"


@dataclass(frozen=True)
class Vary:
    """One swept key and its range (in the key's unit)."""

    key: str
    low: float
    high: float
    integer: bool = False


def _is_integer_key(key: str) -> bool:
    """True if the schema holds a whole number at ``key`` (e.g. ``animals[0].count``)."""
    from tankeco.scenario.messages import loc_of, schema_at, unwrap_optional
    from tankeco.scenario.schema import Scenario

    _, _, annotation = schema_at(Scenario, loc_of(key))
    return unwrap_optional(annotation) is int


def _number(key: str, text: str, vary_text: str) -> float:
    name = key.rsplit(".", 1)[-1]
    try:
        if key.startswith("params."):
            return float(text)
        return units.parse_quantity(name, text)
    except (ScenarioError, ValueError):
        allowed = units.expected(name) if not key.startswith("params.") else "a number"
        raise ScenarioError("--vary", vary_text, f"{text!r} is not {allowed}") from None


def parse_vary(text: str, scenario) -> Vary:
    """``KEY=LOW:HIGH`` checked against the scenario: both ends must be valid values.

    LOW and HIGH are numbers in the key's unit or, like the key's values in a scenario,
    quantities with their own unit (``tap.no3_n_mg_l=5:40 ppm NO3``).
    """
    m = _VARY.match(text)
    if m is None:
        raise ScenarioError("--vary", text, _VARY_HELP)
    key, low_text, high_text = m.groups()
    low = _number(key, low_text, text)
    high = _number(key, high_text, text)
    if high < low:
        raise ScenarioError("--vary", text, "LOW must not be above HIGH")
    integer = _is_integer_key(key)
    vary = Vary(key, low, high, integer)
    for value in {low, high}:
        apply_overrides(scenario, [_assignment(vary, value)])
    return vary


def _assignment(vary: Vary, value: float) -> str:
    if vary.integer:
        return f"{vary.key}={round(value)}"
    return f"{vary.key}={float(value)!r}"


def design(varies: Sequence[Vary], n: int, method: str, seed: int) -> np.ndarray:
    """The values of every run, (run, key).

    ``grid``: ``n`` evenly spaced levels of each key, every combination (n^k runs).
    ``lhs``: ``n`` runs of a Latin hypercube (each key's range cut into n equal strata,
    one draw in each, strata paired at random; McKay, Beckman & Conover 1979,
    Technometrics 21:239), seeded with ``seed``.
    """
    if method not in METHODS:
        raise ScenarioError("--method", method, f"allowed: {', '.join(METHODS)}")
    if n < 1:
        raise ScenarioError("--n", n, "allowed 1 or more")
    lows = np.array([v.low for v in varies])
    highs = np.array([v.high for v in varies])
    if method == "grid":
        levels = [
            np.linspace(lo, hi, n) if n > 1 else np.array([lo])
            for lo, hi in zip(lows, highs, strict=True)
        ]
        values = np.array(list(itertools.product(*levels)), dtype=float)
    else:
        rng = np.random.default_rng(seed)
        k = len(varies)
        u = (rng.permuted(np.tile(np.arange(n), (k, 1)), axis=1).T + rng.random((n, k))) / n
        values = lows + u * (highs - lows)
    for j, v in enumerate(varies):
        if v.integer:
            values[:, j] = np.round(values[:, j])
    return values


def run_chunk(
    scenario_data: dict[str, Any],
    keys: Sequence[str],
    integer: Sequence[bool],
    run_index: Sequence[int],
    values: np.ndarray,
    days: float,
    rtol: float,
    threads: int | None = None,
) -> pd.DataFrame:
    """Run some of a sweep's runs; one row per run (its index, its values, its summary).

    Parameters
    ----------
    scenario_data : dict
        The base scenario as plain data (``Scenario.model_dump()``).
    keys, integer : sequences
        Swept keys and whether each holds a whole number.
    run_index : sequence of int
        Index of each run in the whole sweep.
    values : ndarray (run, key)
    days, rtol : float
        Length of every run and the integrator tolerance.
    threads : int, optional
        Threads of the compiled batch in this process (1 in worker processes).
    """
    if threads is not None:
        import numba

        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    from tankeco.sim.ensemble import run_ensemble

    base = validate_scenario(scenario_data)
    varies = [Vary(k, 0.0, 0.0, i) for k, i in zip(keys, integer, strict=True)]
    members = [
        apply_overrides(base, [_assignment(v, x) for v, x in zip(varies, row, strict=True)])
        for row in values
    ]
    res = run_ensemble(members, days, rtol=rtol)
    table = res.summary.copy()
    for j, key in enumerate(reversed(keys)):
        table.insert(0, key, values[:, len(keys) - 1 - j])
    table.insert(0, "run", np.asarray(run_index, dtype=np.int64))
    return table
