"""Write a run to disk: timeseries.csv, events.csv, summary.json (and report.png elsewhere)."""

from __future__ import annotations

import json
import math
from pathlib import Path

from tankeco.errors import UserError
from tankeco.sim.results import Results


def _clean(value):
    """JSON-safe: NaN/inf become null, numpy scalars become Python numbers."""
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def prepare_dir(out_dir: str | Path) -> Path:
    path = Path(out_dir)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"--out {out_dir}: cannot create the directory ({exc.strerror})") from None
    return path


def write_results(results: Results, out_dir: str | Path) -> dict[str, Path]:
    """Write the tables and the summary; returns the paths written."""
    path = prepare_dir(out_dir)
    files = {
        "timeseries": path / "timeseries.csv",
        "events": path / "events.csv",
        "summary": path / "summary.json",
    }
    results.timeseries.to_csv(files["timeseries"], index=False, float_format="%.9g")
    results.events.to_csv(files["events"], index=False, float_format="%.6g")
    doc = {
        "summary": results.summary,
        "nitrogen_balance": results.balance["nitrogen_mg"],
        "water_balance": results.balance["water_l"],
        "solver": results.solver,
    }
    files["summary"].write_text(json.dumps(_clean(doc), indent=2) + "\n", encoding="utf-8")
    return files
