"""Search a layout's knobs for the most even flow that still delivers a minimum flow.

A Latin-hypercube sample of the ``--vary`` ranges (integers rounded), each candidate
built, solved with its bed and scored.  With a size ``series`` the hole diameter is
taken to the nearest drill of that series and the pipe bores to the nearest standard
pipe bore (:mod:`tankeco.hydraulics.standard_sizes`) before the candidate is built, so
what the tuner prescribes can be drilled and bought.

Nothing is dropped silently: a candidate that cannot be built (a hole wider than its
pipe) or solved is kept in :attr:`TuneResult.failures` with its knob values and the
one-line reason; one that delivers less than ``min_flow_l_h`` is counted.  The best is
the lowest :func:`tankeco.hydraulics.analysis.rank_key` (under-flowed bed area first,
then the coefficient of variation of the hole flows), and the start layout is scored
the same way so that the gain can be shown.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from tankeco.errors import ModelError, ScenarioError, UserError
from tankeco.hydraulics import standard_sizes
from tankeco.hydraulics.analysis import analyse, rank_key
from tankeco.hydraulics.layout_file import LayoutFile

#: keys whose values are whole numbers
INTEGER_KEYS = ("shape.laterals", "shape.columns")

#: keys taken to a drill of the size series, and to a pipe bore of the series
DRILL_KEYS = ("hole.diameter_mm",)
BORE_KEYS = ("pipe.header_diameter_mm", "pipe.lateral_diameter_mm")


@dataclass(frozen=True)
class Range:
    key: str
    low: float
    high: float


@dataclass(frozen=True)
class Candidate:
    values: dict[str, float]
    layout: LayoutFile
    summary: dict[str, float]

    @property
    def score(self) -> tuple[float, float]:
        return rank_key(self.summary)


@dataclass(frozen=True)
class Failure:
    """A candidate that could not be evaluated, and why (one line)."""

    values: dict[str, float]
    reason: str


@dataclass
class TuneResult:
    best: Candidate | None
    start: Candidate | None
    evaluated: int = 0
    below_min_flow: int = 0
    failures: list[Failure] = field(default_factory=list)
    start_failure: str | None = None


def parse_vary(text: str) -> Range:
    """``KEY=LOW:HIGH`` -> Range (one-line error otherwise)."""
    key, sep, rng = text.partition("=")
    low, sep2, high = rng.partition(":")
    try:
        lo, hi = float(low), float(high)
    except ValueError:
        lo = hi = float("nan")
    if not sep or not sep2 or not (lo == lo and hi == hi) or lo > hi:
        raise ScenarioError(f"--vary {key}", rng, "expected KEY=LOW:HIGH with LOW <= HIGH")
    return Range(key.strip(), lo, hi)


def _choices(r: Range, series: standard_sizes.Series | None) -> np.ndarray | None:
    """The standard sizes inside a range, or None for a continuous knob."""
    if series is None or r.key not in DRILL_KEYS + BORE_KEYS:
        return None
    if r.key in DRILL_KEYS:
        sizes, what = standard_sizes.drill_sizes_mm(series), "drill"
    else:
        sizes, what = standard_sizes.pipe_bores_mm(series), "pipe bore"
    inside = sizes[(sizes >= r.low - 1e-9) & (sizes <= r.high + 1e-9)]
    if inside.size == 0:
        raise ScenarioError(
            f"--vary {r.key}",
            f"{r.low:g}:{r.high:g}",
            f"no {series} {what} in this range; the series has "
            + ", ".join(f"{s:.2f}" for s in sizes)
            + " mm",
        )
    return inside


def _score(layout: LayoutFile, values: dict[str, float]) -> Candidate:
    summary = analyse(layout.network(), options=layout.options()).summary()
    return Candidate(values, layout, summary)


def tune(
    base: LayoutFile,
    ranges: list[Range],
    samples: int = 200,
    min_flow_l_h: float = 0.0,
    seed: int = 0,
    progress: Callable[[int], None] | None = None,
    series: standard_sizes.Series | None = None,
) -> TuneResult:
    """Sample, solve and rank the candidates (see the module docstring)."""
    choices = [_choices(r, series) for r in ranges]
    for r in ranges:  # fail fast on unknown keys
        base.with_value(r.key, r.low if r.key not in INTEGER_KEYS else round(r.low))
    result = TuneResult(best=None, start=None)
    try:
        result.start = _score(base, {r.key: float("nan") for r in ranges})
    except (UserError, ModelError) as exc:
        result.start_failure = str(exc)
    from scipy.stats import qmc  # here, not at import: scipy.stats costs ~1 s of start-up

    sampler = qmc.LatinHypercube(d=len(ranges), seed=seed)
    unit = sampler.random(samples)
    for row in unit:
        values: dict[str, float] = {}
        for r, u, sizes in zip(ranges, row, choices, strict=True):
            if sizes is not None:
                values[r.key] = float(sizes[min(int(u * sizes.size), sizes.size - 1)])
                continue
            v = r.low + u * (r.high - r.low)
            values[r.key] = float(round(v)) if r.key in INTEGER_KEYS else round(v, 4)
        try:
            layout = base.with_values(
                {k: int(v) if k in INTEGER_KEYS else v for k, v in values.items()}
            )
            cand = _score(layout, values)
        except (UserError, ModelError) as exc:
            result.failures.append(Failure(values, str(exc)))
            if progress:
                progress(1)
            continue
        result.evaluated += 1
        if progress:
            progress(1)
        if cand.summary["pump_flow_l_h"] < min_flow_l_h:
            result.below_min_flow += 1
            continue
        if result.best is None or cand.score < result.best.score:
            result.best = cand
    return result


@dataclass(frozen=True)
class SamePathMap:
    """Direct (U) against same-path (Z) ladders over rung/header bore ratio and flow.

    ``cv_u``/``cv_z`` and ``low_u``/``low_z`` (under-flowed bed area share) are indexed
    [flow, ratio]; NaN where a layout could not be built (a hole as wide as the rung)
    or solved, with the reasons in ``failures``.
    """

    header_diameter_mm: float
    bore_ratio: np.ndarray
    flow_l_h: np.ndarray
    cv_u: np.ndarray
    cv_z: np.ndarray
    low_u: np.ndarray
    low_z: np.ndarray
    failures: list[Failure]


def same_path_map(
    base: LayoutFile,
    bore_ratios: np.ndarray,
    flows_l_h: np.ndarray,
    progress: Callable[[int], None] | None = None,
) -> SamePathMap:
    """Solve ``base`` as a U and as a Z ladder at each rung bore and fixed pump flow.

    The keeper's question "does same-path help for my pipe sizes and flow?": the header
    bore, tank, holes and bed stay those of ``base``; the rung bore is ``ratio x`` the
    header bore and the pump a fixed flow.
    """
    header = base.pipe.header_diameter_mm
    shape = (flows_l_h.size, bore_ratios.size)
    out = {k: np.full(shape, np.nan) for k in ("cv_u", "cv_z", "low_u", "low_z")}
    failures: list[Failure] = []
    data = base.model_dump(exclude_none=True)
    data["pump"] = {k: v for k, v in data.get("pump", {}).items() if k in ("lift_m", "outlet")}
    for i, flow in enumerate(flows_l_h):
        for j, ratio in enumerate(bore_ratios):
            for tag, shape_name in (("u", "ladder_u"), ("z", "ladder_z")):
                values = {"flow_l_h": float(flow), "bore_ratio": float(ratio)}
                try:
                    d = {**data, "layout": {**data["layout"], "shape": shape_name}}
                    d["pump"] = {**data["pump"], "flow_l_h": float(flow)}
                    d["pipe"] = {**data.get("pipe", {}), "lateral_diameter_mm": header * ratio}
                    layout = LayoutFile.model_validate(d)
                    s = _score(layout, values).summary
                except (UserError, ModelError, ValueError) as exc:
                    failures.append(Failure({**values, "z": float(tag == "z")}, str(exc)))
                    continue
                out[f"cv_{tag}"][i, j] = s["cv"]
                out[f"low_{tag}"][i, j] = s["low_flow_area_share"]
            if progress:
                progress(1)
    return SamePathMap(header, bore_ratios, flows_l_h, failures=failures, **out)
