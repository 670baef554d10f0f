"""``tankeco node`` as a keeper runs it: dry run, mapping file, bad input, SIGTERM."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest

from tankeco.bridge.mapping import parse_mapping
from tests.integration.brokers import free_port

ROOT = Path(__file__).resolve().parents[1]


def node(*args: str, timeout_s: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tankeco", "node", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=timeout_s,
    )  # fmt: skip


def test_a_run_shorter_than_an_hour_reads_to_its_end() -> None:
    """The simulator writes hourly rows; a 14.4-minute run still gets all its readings."""
    r = node("--dry-run", "--days", "0.01", "--speed", "1e7", "--dropouts-per-day", "0")
    assert r.returncode == 0, r.stderr
    temps = [line for line in r.stdout.splitlines() if "/temp/state" in line]
    assert len(temps) == 15  # minutes 0..14
    assert "done at day 0.01" in r.stderr


def test_dry_run_prints_every_message_and_counts_them(tmp_path: Path) -> None:
    mapping = tmp_path / "map.toml"
    r = node("--dry-run", "--format", "esphome", "--days", "0.05", "--speed", "1e6",
             "--seed", "4", "--tank", "t1", "--write-mapping", str(mapping))  # fmt: skip
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "vnode-t1/status [retained] online"
    assert lines[-1] == "vnode-t1/status [retained] offline"
    assert any(line.startswith("vnode-t1/sensor/ph/state [retained] 7.") for line in lines)
    assert f"sent {len(lines)} messages" in r.stderr.splitlines()[-1]
    m = parse_mapping(tomllib.loads(mapping.read_text()))
    assert set(m.esphome) == {line.split()[0] for line in lines if "/sensor/" in line}


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--speed", "-1"], "--speed -1"),
        (["--tank", "a/b"], "--tank 'a/b'"),
        (["--start", "yesterday"], "--start 'yesterday'"),
        (["--interval-s", "0.5"], "--interval-s 0.5"),
        (["--format", "tasmota", "--interval-s", "5"], "Tasmota sends at most every 10 s"),
        (["--scenario", "no_such.toml"], "no such scenario file"),
        (["--format", "xml"], "invalid choice"),
        (["--broker", "http://host"], "--broker 'http://host'"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args: list[str], says: str) -> None:
    r = node("--days", "0.01", *args)
    assert r.returncode == 2
    assert len(r.stderr.strip().splitlines()) == 1 and says in r.stderr
    assert "Traceback" not in r.stderr


def test_an_unreachable_broker_is_one_line_and_exit_2() -> None:
    r = node("--days", "0.01", "--broker", f"mqtt://127.0.0.1:{free_port()}")
    assert r.returncode == 2
    assert r.stderr.strip().startswith("tankeco: error: cannot reach mqtt://127.0.0.1:")
    assert len(r.stderr.strip().splitlines()) == 1


def test_sigterm_stops_cleanly_with_the_goodbye_and_the_count(tmp_path: Path) -> None:
    out = tmp_path / "out.txt"
    with out.open("w") as f:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tankeco", "node", "--dry-run", "--speed", "1", "--days", "1"],
            cwd=ROOT, stdout=f, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while "nh3/state" not in out.read_text():  # birth and the first readings are out
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=10)
    assert proc.returncode == 0
    lines = out.read_text().splitlines()
    assert lines[-1] == "tankeco/v1/home/main/vnode/status [retained] offline"
    assert err.strip().splitlines()[-1] == (
        f"tankeco node: stopped at day 0.00: sent {len(lines)} messages"
    )
