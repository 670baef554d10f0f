"""Where a sweep's chunks run: local worker processes, or an existing Dask cluster.

Both paths call :func:`tankeco.sim.sweep.run_chunk` on the same chunks with one compiled
thread per worker, so they give the same numbers; results come back in run order
whatever order the chunks finish in.  Dask is optional (``pip install
"tankeco[dask]"``); its workers need tankeco installed (or on their ``sys.path``).
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any

import numpy as np
import pandas as pd

from tankeco.errors import UserError
from tankeco.sim.sweep import Vary, run_chunk


def chunks(n_runs: int, chunk_size: int) -> list[np.ndarray]:
    """Run indices split into chunks of at most ``chunk_size``."""
    return [np.arange(i, min(i + chunk_size, n_runs)) for i in range(0, n_runs, chunk_size)]


def run_sweep(
    scenario_data: dict[str, Any],
    varies: Sequence[Vary],
    values: np.ndarray,
    days: float,
    *,
    rtol: float = 1e-3,
    chunk_size: int = 32,
    scheduler: str | None = None,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> pd.DataFrame:
    """Every run of a sweep, one summary row each, in run order.

    Parameters
    ----------
    scenario_data : dict
        Base scenario as plain data.
    varies : sequence of Vary
    values : ndarray (run, key)
        From :func:`tankeco.sim.sweep.design`.
    days, rtol : float
    chunk_size : int
        Runs per task.
    scheduler : str, optional
        Address of a Dask scheduler (``tcp://host:port``); None runs local processes.
    workers : int, optional
        Local worker processes (default: the CPU count).
    progress : callable(done, total), optional
    """
    keys = [v.key for v in varies]
    integer = [v.integer for v in varies]
    parts = chunks(len(values), chunk_size)
    args = [(scenario_data, keys, integer, idx, values[idx], days, rtol, 1) for idx in parts]
    if scheduler is not None:
        tables = _on_dask(scheduler, args, len(values), progress)
    else:
        tables = _on_processes(args, len(values), workers, progress)
    return pd.concat(tables, ignore_index=True).sort_values("run").reset_index(drop=True)


def _on_processes(args, total: int, workers: int | None, progress) -> list[pd.DataFrame]:
    n_workers = max(1, min(workers or os.cpu_count() or 1, len(args)))
    # spawn: the parent may already run numba's thread pool, which fork would not copy
    ctx = multiprocessing.get_context("spawn")
    tables, done = [], 0
    with ProcessPoolExecutor(max_workers=n_workers, mp_context=ctx) as pool:
        futures = {pool.submit(run_chunk, *a): len(a[3]) for a in args}
        for fut in as_completed(futures):
            tables.append(fut.result())
            done += futures[fut]
            if progress is not None:
                progress(done, total)
    return tables


def _on_dask(address: str, args, total: int, progress) -> list[pd.DataFrame]:
    try:
        from distributed import Client
        from distributed import as_completed as dask_completed
    except ImportError:
        raise UserError(
            f"--scheduler {address}: Dask is not installed; pip install 'tankeco[dask]'"
        ) from None
    try:
        client = Client(address, timeout="10s")
    except (OSError, TimeoutError) as exc:
        raise UserError(f"--scheduler {address}: cannot connect ({exc})") from None
    try:
        futures = [client.submit(run_chunk, *a, pure=False) for a in args]
        sizes = {f.key: len(a[3]) for f, a in zip(futures, args, strict=True)}
        tables, done = [], 0
        for fut in dask_completed(futures):
            try:
                tables.append(fut.result())
            except Exception as exc:  # a worker's failure, reported on one line
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
                raise UserError(
                    f"--scheduler {address}: a chunk failed on the cluster: "
                    f"{type(exc).__name__}: {first} (are tankeco and its dependencies "
                    "installed on the scheduler and every worker?)"
                ) from None
            done += sizes[fut.key]
            if progress is not None:
                progress(done, total)
        return tables
    finally:
        client.close()
