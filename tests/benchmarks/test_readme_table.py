"""The README's "Measured" table is what the benchmarks recorded, never a hand copy."""

from __future__ import annotations

import pytest

from tests.benchmarks.harness import load_record
from tests.benchmarks.readme_table import BDF_90, ENGINE_90, README, ROWS, START, rewrite, table


def test_readme_table_is_written_from_the_committed_record() -> None:
    readme = README.read_text(encoding="utf-8")
    assert START in readme
    assert rewrite(readme, load_record()) == readme, (
        "README.md's Measured table differs from docs/benchmarks.json: "
        "run python3 -m tests.benchmarks.readme_table"
    )


def test_every_row_is_in_the_table_and_a_missing_figure_is_said_so() -> None:
    record = load_record()
    rows = [line for line in table(record).splitlines() if line.startswith("| ")]
    assert len(rows) == len(ROWS) + 1
    without = {k: v for k, v in record.items() if k != ENGINE_90}
    text = table(without)
    assert "| 90 days of the seed tank, engine (`simulate`) | not in the record |" in text
    assert f"`{ENGINE_90} (min_s)`" in text


def test_a_ratio_is_never_taken_across_two_runs() -> None:
    record = load_record()
    mixed = {**record, BDF_90: {**record[BDF_90], "run": "another run"}}
    assert record[ENGINE_90]["run"] != "another run"
    with pytest.raises(SystemExit, match="different runs"):
        table(mixed)
