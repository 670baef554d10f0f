"""A synthetic tank history with known parameters, written into a real store.

The model is run with known knobs (the "true" tank), sampled like the virtual node's
sensors (every few minutes, Gaussian noise of each sensor's stated accuracy) and like a
keeper's test kit (a few readings rounded to the card's steps), and stored exactly as
the bridge would store them, so calibration is tested through the same path real data
takes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from tankeco.compare.replay import Action, Knobs, replay
from tankeco.io.history import kit_steps
from tankeco.scenario.schema import Scenario
from tankeco.store import Batch, Event, ManualEntry, Reading, Store
from tankeco.units.quantities import MODEL_COLUMN, SENSOR_SIGMA

MS_PER_DAY = 86_400_000


def write_history(
    store: Store,
    scenario: Scenario,
    truth: Knobs,
    *,
    origin_ms: int,
    days: float,
    tank: str = "t1",
    every_min: float = 5.0,
    quantities: Sequence[str] = ("tan_n", "no2_n", "no3_n", "ph"),
    kit_every_d: float = 2.0,
    actions: Sequence[Action] = (),
    seed: int = 1,
):
    """Run the true tank and store its noisy readings; returns the true timeseries."""
    rng = np.random.default_rng(seed)
    ts = replay(scenario, days, actions, truth, rtol=1e-5).timeseries
    t = np.arange(0.0, days, every_min / 1440.0)
    batch = Batch()
    for q in quantities:
        true = np.interp(t, ts["time_d"], ts[MODEL_COLUMN[q]])
        noisy = true + rng.normal(0.0, SENSOR_SIGMA[q], t.size)
        if q != "ph":
            noisy = np.maximum(noisy, 0.0)  # a probe never reports below zero
        for i, (ti, v) in enumerate(zip(t, noisy, strict=True)):
            ms = origin_ms + int(round(ti * MS_PER_DAY))
            batch.readings.append(
                Reading(ms, "home", tank, f"{q}-probe", q, float(v), "", seq=i, received_ms=ms)
            )
    steps = kit_steps()
    for k, day in enumerate(np.arange(0.4, days, kit_every_d)):
        for q in ("no3_n", "no2_n"):
            card = np.array(steps[("api", q)])
            true = float(np.interp(day, ts["time_d"], ts[MODEL_COLUMN[q]]))
            read = float(card[np.argmin(np.abs(card - true))])  # the colour it looks like
            ms = origin_ms + int(round(day * MS_PER_DAY)) + k
            batch.manual.append(ManualEntry(ms, "home", tank, q, read, "", read, "", kit="api"))
    for a in actions:
        ms = origin_ms + int(round(a.time_d * MS_PER_DAY))
        batch.events.append(Event(ms, "home", tank, a.kind, a.amount, a.unit))
    store.write(batch)
    return ts
