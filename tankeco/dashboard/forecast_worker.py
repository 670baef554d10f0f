"""The dashboard's forecast, computed in a short-lived process of its own.

The filter needs the model (numba, scipy, pandas: ~200 MB once imported); the web server
needs none of it.  Running the forecast as ``python -m tankeco.dashboard.forecast_worker``
every few minutes keeps the long-running server small, and a crash or a slow forecast
can never stall the page.  It prints one JSON object on stdout.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time

import numpy as np

from tankeco.errors import UserError
from tankeco.scenario.thresholds import MAX_SINGLE_CHANGE_FRACTION
from tankeco.units.quantities import MODEL_COLUMN


def forecast_of() -> dict[str, str]:
    """Store quantity -> forecast column, for the quantities the forecast predicts.

    The model column comes from the quantity registry; the forecast's own list of
    columns says which of them it predicts (not the heater-held temperature).
    """
    from tankeco.compare.forecast import FORECAST_COLUMNS

    return {q: c for q, c in MODEL_COLUMN.items() if c in FORECAST_COLUMNS}


def compute(
    store_url: str,
    tank: str,
    scenario_path: str | None,
    tz_name: str | None,
    window_d: float,
    now_ms: int,
    members: int = 20,
    max_fraction: float = MAX_SINGLE_CHANGE_FRACTION,
) -> dict:
    from tankeco.compare import alerts as al
    from tankeco.compare.align import observations
    from tankeco.compare.calibrate import start_overrides
    from tankeco.compare.forecast import forecast
    from tankeco.io.history import (
        actions,
        clock_for,
        drop_kits,
        kit_steps,
        load_history,
        weekday_name,
        zone,
    )
    from tankeco.scenario.loading import apply_overrides, load_scenario
    from tankeco.store import open_store

    tz = zone(tz_name)
    scenario = load_scenario(scenario_path)
    since = now_ms - int(window_d * 86_400_000)
    store = open_store(store_url)
    try:
        hist = load_history(store, tank, since, now_ms + 1)
    finally:
        store.close()
    clock = clock_for(since, tz)
    obs = observations(hist.readings, hist.manual, clock, kit_steps(), drop_kits=drop_kits())
    if obs.empty:
        return {"status": "no readings the model can use in the last days"}
    now_d = float(clock.days(now_ms))
    started = apply_overrides(scenario, start_overrides(obs))
    t0 = time.perf_counter()
    fc = forecast(started, obs, now_d, actions=actions(hist.events, clock), members=members)
    t_ms = clock.ms(fc.time_d).tolist()
    bands = {
        q: {
            "t": t_ms,
            "median": np.round(fc.median[c], 5).tolist(),
            "low": np.round(fc.low[c], 5).tolist(),
            "high": np.round(fc.high[c], 5).tolist(),
        }
        for q, c in forecast_of().items()
    }
    nitrate = al.nitrate(
        fc, lambda d: weekday_name(int(clock.ms(d)), tz), max_fraction=max_fraction
    )
    countdown = al.water_change_countdown_d(fc)
    return {
        "status": "ok",
        "computed_ms": now_ms,
        "seconds": round(time.perf_counter() - t0, 2),
        "bands": bands,
        "now_mean": fc.now_mean,
        "now_std": fc.now_std,
        "alerts": [
            a.as_dict() | {"due_ms": None if a.due_d is None else int(clock.ms(a.due_d))}
            for a in nitrate
        ],
        "countdown_d": None if math.isinf(countdown) else countdown,
    }


def main(argv: list[str] | None = None) -> int:
    """One JSON line per ``--tank``, each printed as soon as it is computed.

    The overview of many tanks runs one worker over a batch of tanks: the model is
    imported once (seconds) instead of once per tank, and the server takes each tank's
    forecast as its line arrives.  A tank whose forecast fails gets a line saying why;
    the next tank is still computed.
    """
    p = argparse.ArgumentParser(prog="tankeco.dashboard.forecast_worker")
    p.add_argument("--store", required=True)
    p.add_argument("--tank", required=True, action="append")
    p.add_argument("--scenario")
    p.add_argument("--tz")
    p.add_argument("--window-d", type=float, default=3.0)
    p.add_argument("--now-ms", type=int)
    p.add_argument("--max-fraction", type=float, default=MAX_SINGLE_CHANGE_FRACTION)
    args = p.parse_args(argv)
    for tank in args.tank:
        try:
            out = compute(
                args.store,
                tank,
                args.scenario,
                args.tz,
                args.window_d,
                args.now_ms or int(time.time() * 1000),
                max_fraction=args.max_fraction,
            )
        except UserError as exc:
            out = {"status": f"forecast failed: {exc}"}
        except Exception as exc:  # noqa: BLE001 - one tank's failure must not stop the rest
            out = {"status": f"forecast failed: {type(exc).__name__}: {exc}"}
        sys.stdout.write(json.dumps({"tank": tank} | out) + "\n")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
