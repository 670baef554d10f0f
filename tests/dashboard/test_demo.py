"""``tankeco demo`` end to end: broker, node, bridge, dashboard, and a clean stop."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil
import pytest

from tests.dashboard.browser import free_port

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.integration
def test_demo_serves_live_readings_and_stops_everything_on_sigterm(tmp_path):
    port = free_port()
    log = tmp_path / "demo.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tankeco", "demo", "--port", str(port), "--interval", "0.5"],
            cwd=ROOT, stdout=out, stderr=out, env=dict(os.environ, PYTHONPATH=str(ROOT)),
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 40
        state = None
        while time.monotonic() < deadline:
            text = log.read_text(errors="replace")
            if "dashboard: http://127.0.0.1" in text:
                try:
                    with urllib.request.urlopen(
                        f"http://127.0.0.1:{port}/api/state", timeout=5
                    ) as r:
                        state = json.load(r)
                    fresh = [s for s in state["sensors"] if (s["age_min"] or 99) < 0.2]
                    # temperature, pH and free ammonia from 'tankeco node', published just
                    # now, through the broker and the bridge
                    if len(fresh) >= 3:
                        break
                except OSError:
                    pass
            assert proc.poll() is None, text
            time.sleep(0.3)
        else:
            raise AssertionError("no live readings:\n" + log.read_text(errors="replace"))
        assert state["tank"] == "demo"
        m = re.search(r"broker mqtt://127\.0\.0\.1:(\d+)", log.read_text())
        broker_port = int(m.group(1)) if m else None
        children = psutil.Process(proc.pid).children(recursive=True)
        assert len(children) >= 2  # broker and bridge
        names = {c.pid: c.cmdline() for c in children}
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
        assert "demo: stopped" in log.read_text()
        gone, alive = psutil.wait_procs(children, timeout=5)
        # a process that has exited but whose (re-parented) exit status nobody collected
        # yet is a zombie: it holds no port, memory or file, so it counts as stopped
        assert [(p.pid, names.get(p.pid)) for p in alive if _still_running(p)] == []
        if broker_port:
            with socket.socket() as s:
                assert s.connect_ex(("127.0.0.1", broker_port)) != 0
        # issue 13: the demo's temporary directory (store, broker data) is removed
        workdir = re.search(r"bridge into sqlite:///(/\S+)/demo\.db", log.read_text())
        assert workdir and not Path(workdir.group(1)).exists()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _still_running(proc: psutil.Process) -> bool:
    try:
        return proc.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_demo_refuses_a_number_of_tanks_it_cannot_run(capsys: pytest.CaptureFixture[str]) -> None:
    from tankeco.cli import main as cli_main

    assert cli_main(["demo", "--tank-count", "0"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--tank-count 0: allowed 1 to 20" in err


@pytest.mark.integration
def test_demo_runs_several_tanks_each_with_its_own_live_node(tmp_path):
    port = free_port()
    log = tmp_path / "demo.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tankeco", "demo", "--tank-count", "3", "--port", str(port),
             "--interval", "0.5"],
            cwd=ROOT, stdout=out, stderr=out, env=dict(os.environ, PYTHONPATH=str(ROOT)),
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert proc.poll() is None, log.read_text(errors="replace")
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/api/overview", timeout=5
                ) as r:
                    tanks = {t["tank"]: t for t in json.load(r)["tanks"]}
                # every tank's node has published just now, through the broker and bridge
                if len(tanks) == 3 and all(t["age_min"] < 0.2 for t in tanks.values()):
                    break
            except OSError:
                pass
            time.sleep(0.5)
        else:
            raise AssertionError("not every tank live:\n" + log.read_text(errors="replace"))
        assert set(tanks) == {"demo", "demo-2", "demo-3"}
        # the prefilled histories differ: each tank is further into the cycle
        assert len({t["no3_n"]["value"] for t in tanks.values()}) == 3
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as r:
            assert b"static/overview.js" in r.read()  # several tanks: opens on the overview
        nodes = [c.cmdline() for c in psutil.Process(proc.pid).children(recursive=True)
                 if "node" in c.cmdline()]  # fmt: skip
        assert sorted(c[c.index("--tank") + 1] for c in nodes) == ["demo", "demo-2", "demo-3"]
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
