"""Search a layout's knobs for the most even flow that still delivers a minimum flow.

A Latin-hypercube sample of the ``--vary`` ranges (integers rounded), each candidate
built, solved with its bed and scored.  Candidates that cannot be built (a hole wider
than its pipe) or solved, or that deliver less than ``min_flow_l_h``, are dropped; the
best is the lowest coefficient of variation of the hole flows, ties broken by the share
of bed area with less than half the mean up-flow.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from scipy.stats import qmc

from tankeco.errors import ScenarioError, UserError
from tankeco.hydraulics.analysis import analyse
from tankeco.hydraulics.layout_file import LayoutFile

#: keys whose values are whole numbers
INTEGER_KEYS = ("shape.laterals", "shape.columns")


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
        return (self.summary["cv"], self.summary["low_flow_area_share"])


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


def tune(
    base: LayoutFile,
    ranges: list[Range],
    samples: int = 200,
    min_flow_l_h: float = 0.0,
    seed: int = 0,
    progress: Callable[[int], None] | None = None,
) -> tuple[Candidate | None, int]:
    """Best candidate (or None) and the number of candidates that could be evaluated."""
    for r in ranges:  # fail fast on unknown keys
        base.with_value(r.key, r.low if r.key not in INTEGER_KEYS else round(r.low))
    sampler = qmc.LatinHypercube(d=len(ranges), seed=seed)
    unit = sampler.random(samples)
    best: Candidate | None = None
    evaluated = 0
    for row in unit:
        values = {}
        for r, u in zip(ranges, row, strict=True):
            v = r.low + u * (r.high - r.low)
            values[r.key] = float(round(v)) if r.key in INTEGER_KEYS else round(v, 4)
        try:
            layout = base
            for k, v in values.items():
                layout = layout.with_value(k, int(v) if k in INTEGER_KEYS else v)
            summary = analyse(layout.network(), options=layout.options()).summary()
        except UserError:
            if progress:
                progress(1)
            continue
        evaluated += 1
        if progress:
            progress(1)
        if summary["pump_flow_l_h"] < min_flow_l_h:
            continue
        cand = Candidate(values, layout, summary)
        if best is None or cand.score < best.score:
            best = cand
    return best, evaluated
