"""``tankeco log``: gallons, a list of what was logged and its undo (issue 11, point 10)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tankeco.cli import main
from tankeco.store import Batch, ManualEntry, open_store


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
    assert lines[0].startswith("e1     2026-11-30 10:00 UTC  water_change  18.9271 L")
    assert lines[1].startswith("m1     2026-11-30 12:00 UTC  no3_n         20 mg/L NO3      api")
    assert main(["log", "list", "--store", url, "--last", "1"]) == 0
    assert len(capsys.readouterr().out.strip().splitlines()) == 1


def _log(url: str, *words: str) -> int:
    return main(["log", *words, "--store", url, "--tz", "UTC"])


def test_undo_removes_the_last_entry_or_the_one_named_and_says_what(store_url: str, capsys):
    """On SQLite and on a real PostgreSQL: list shows ids, undo removes one and says which."""
    open_store(store_url).close()
    assert _log(store_url, "nitrate", "20", "--kit", "api", "--time", "2026-11-30 08:00") == 0
    assert _log(store_url, "water-change", "30%", "--time", "2026-11-30 09:00") == 0
    assert _log(store_url, "feeding", "2g", "--time", "2026-11-30 10:00") == 0
    capsys.readouterr()
    assert _log(store_url, "list") == 0
    ids = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert [i[0] for i in ids] == ["m", "e", "e"] and len(set(ids)) == 3
    # no id: the last entry of the tank, with a line saying what went
    assert _log(store_url, "undo") == 0
    out = capsys.readouterr().out
    assert out.startswith(f"removed from home/main: {ids[2]} ") and "feeding" in out
    # an id from the list: that entry
    assert _log(store_url, "undo", ids[0]) == 0
    assert "no3_n" in capsys.readouterr().out
    assert _log(store_url, "list") == 0
    assert [line.split()[0] for line in capsys.readouterr().out.splitlines()] == [ids[1]]
    store = open_store(store_url)
    assert store.manual_entries() == [] and [e.kind for e in store.events()] == ["water_change"]
    store.close()


@pytest.mark.parametrize(
    "words, message",
    [
        (["undo", "m999"], "log undo m999: no such entry for home/main"),
        (["undo", "12"], "log undo '12': give an id as 'tankeco log list' shows it"),
        (["undo", "m1"], "log undo m1: received by the bridge (mqtt:node)"),
        (["undo", "--tank", "qt"], "log undo: nothing logged with 'tankeco log' for home/qt"),
    ],
)
def test_undo_refuses_unknown_ids_and_what_the_bridge_received(
    tmp_path: Path, capsys, words: list[str], message: str
) -> None:
    url = f"sqlite:///{tmp_path / 't.db'}"
    store = open_store(url)
    from_node = ManualEntry(
        1_790_000_000_000, "home", "main", "no3_n", 4.518, "mg/L NO3-N", 20.0, "mg/L NO3",
        "api", source="mqtt:node",
    )  # fmt: skip
    store.write(Batch(manual=[from_node]))
    store.close()
    assert main(["log", *words, "--store", url]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err, err
    store = open_store(url)
    assert store.manual_entries() == [from_node]  # nothing removed
    store.close()
