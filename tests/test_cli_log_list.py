"""``tankeco log``: gallons and a list of what was logged (issue 11, point 10)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tankeco.cli import main
from tankeco.store import open_store


def test_gallons_are_converted_once_and_the_list_shows_entries(tmp_path: Path, capsys) -> None:
    url = f"sqlite:///{tmp_path / 't.db'}"
    open_store(url).close()
    assert main(["log", "water-change", "5gal", "--store", url, "--time", "2026-11-30T10:00Z"]) == 0
    assert "5 gal = 18.9 L" in capsys.readouterr().out
    store = open_store(url)
    (event,) = store.events()
    store.close()
    # 1 US gallon = 3.785411784 L exactly (NIST Handbook 44, Appendix C)
    assert event.unit == "L" and event.amount == pytest.approx(5 * 3.785411784)
    assert main(["log", "nitrate", "20", "--kit", "api", "--store", url, "--tz", "UTC",
                 "--time", "2026-11-30 12:00"]) == 0  # fmt: skip
    capsys.readouterr()
    assert main(["log", "list", "--store", url, "--tz", "UTC"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith("2026-11-30 10:00 UTC  water_change  18.9271 L")
    assert lines[1].startswith("2026-11-30 12:00 UTC  no3_n         20 mg/L NO3      api")
    assert main(["log", "list", "--store", url, "--last", "1"]) == 0
    assert len(capsys.readouterr().out.strip().splitlines()) == 1
