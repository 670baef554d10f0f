"""Imports stream: memory does not grow with the file (tracemalloc peak, same process).

A file four times longer must not need more memory than the short one (within noise),
and the long one needs less than the file's size: the XML is read with
``iterparse`` and each finished record cleared, the CSVs line by line, and rows are
written every ``FLUSH_ROWS``.
"""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest

from tankeco.store import open_store
from tests.imports.bigfiles import write_apex, write_ha
from tests.imports.helpers import tankeco


def _peak_bytes(run: Callable[[], None]) -> int:
    tracemalloc.start()
    try:
        run()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("fmt", ["apex", "ha"])
def test_peak_memory_does_not_grow_with_the_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, fmt: str
) -> None:
    write = write_apex if fmt == "apex" else write_ha
    extra = (
        ["--temp-unit", "F"]
        if fmt == "apex"
        else ["--map", "sensor.tank_ph=ph", "--map", "sensor.tank_temperature=temperature:°C"]
    )

    def importing(path: Path, db: str) -> Callable[[], None]:
        url = f"sqlite:///{tmp_path / db}"

        def run() -> None:
            code, _, err = tankeco(capsys, "import", fmt, str(path), "--store", url,
                                   "--tank", "main", *extra)  # fmt: skip
            assert code == 0, err

        return run

    small, large = tmp_path / "small", tmp_path / "large"
    write(small, 500)
    importing(small, "warm.db")()  # modules and caches loaded before measuring
    small_n = 2000 if fmt == "apex" else 6000  # an Apex record holds four readings
    large_n = 4 * small_n
    write(small, small_n)
    large_size = write(large, large_n)
    peak_small = _peak_bytes(importing(small, "small.db"))
    peak_large = _peak_bytes(importing(large, "large.db"))
    assert peak_large < 1.5 * peak_small + 256 * 1024, (peak_small, peak_large)
    assert peak_large < large_size, (peak_large, large_size)
    store = open_store(f"sqlite:///{tmp_path / 'large.db'}")
    try:
        per_record = 4 if fmt == "apex" else 1
        assert len(store.readings()) == large_n * per_record
    finally:
        store.close()
