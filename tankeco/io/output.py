"""Write a run to disk: timeseries.csv, events.csv, summary.json (and report.png elsewhere)."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from tankeco.errors import UserError

if TYPE_CHECKING:  # the results module imports numba (a quarter of a second), and
    # ``tankeco simulate`` checks --out with prepare_dir before it says it is compiling
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


def write_results(
    results: Results, out_dir: str | Path, verdict: dict | None = None
) -> dict[str, Path]:
    """Write the tables and the summary (with the run's verdict); returns the paths written."""
    from tankeco.sim.results import EVENT_COLUMNS

    path = prepare_dir(out_dir)
    files = {
        "timeseries": path / "timeseries.csv",
        "events": path / "events.csv",
        "summary": path / "summary.json",
    }
    _write_columns_csv(files["timeseries"], results.columns)
    _write_rows_csv(files["events"], results.event_rows, EVENT_COLUMNS)
    doc = {
        "summary": results.summary,
        "nitrogen_balance": results.balance["nitrogen_mg"],
        "water_balance": results.balance["water_l"],
        "solver": results.solver,
    }
    if verdict is not None:
        doc["verdict"] = verdict
    files["summary"].write_text(json.dumps(_clean(doc), indent=2) + "\n", encoding="utf-8")
    return files


def _write_columns_csv(path: Path, columns: dict) -> None:
    """Numeric columns to CSV with 9 significant digits; booleans as True/False."""
    names = list(columns)
    cells = []
    for name in names:
        col = np.asarray(columns[name])
        if col.dtype == bool:
            cells.append(np.where(col, "True", "False"))
        elif np.issubdtype(col.dtype, np.integer):
            cells.append(col.astype(str))
        else:
            cells.append(np.char.mod("%.9g", col))
    body = np.column_stack(cells) if cells else np.empty((0, 0), dtype=str)
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write(",".join(names) + "\n")
        fh.writelines(",".join(row) + "\n" for row in body)


def _write_rows_csv(path: Path, rows: list[dict], fields: tuple[str, ...]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(fields), lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow(
                {k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in row.items()}
            )
