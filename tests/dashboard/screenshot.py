"""Re-take the README's dashboard picture from a running ``tankeco demo``.

    python3 -m tests.dashboard.screenshot docs/dashboard.png

Starts ``tankeco demo`` (its broker, the virtual node, the bridge and the dashboard over a
store prefilled with three days of the seed tank), waits until the forecast has been
computed and the live node has been heard from, and takes the page in headless Chromium
(Debian's, through playwright, as the browser tests do).  The picture then shows live
data, the forecast band and the advice as a keeper sees them; the script refuses to write
it if any advice asks for more than ``--max-fraction`` (50 %) of the water at once.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from tests.dashboard.browser import ROOT, browser_page, free_port

#: Largest share an advice in the picture may ask for (the dashboard's default cap).
CAP_PERCENT = 50


def _state(port: int) -> dict | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/state", timeout=5) as r:
            return json.load(r)
    except OSError:
        return None


def wait_for_demo(proc: subprocess.Popen, port: int, log: Path, timeout_s: float) -> dict:
    """The dashboard's state once the forecast is ok and three sensors spoke this minute."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit("tankeco demo stopped:\n" + log.read_text(errors="replace"))
        state = _state(port)
        if state and state["forecast_status"] == "ok":
            fresh = [s for s in state["sensors"] if (s["age_min"] or 99) < 1.0]
            if len(fresh) >= 3 and state["alerts"]:
                return state
        time.sleep(1.0)
    raise SystemExit("no forecast within the time:\n" + log.read_text(errors="replace"))


def largest_advice_percent(state: dict) -> int:
    """The largest "NN%" any alert of the state asks for (0 if none)."""
    shares = [int(p) for a in state["alerts"] for p in re.findall(r"(\d+)%", a["message"])]
    return max(shares, default=0)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python3 -m tests.dashboard.screenshot")
    p.add_argument("out", type=Path, help="PNG to write, e.g. docs/dashboard.png")
    p.add_argument("--width", type=int, default=1400)
    p.add_argument("--height", type=int, default=1000)
    p.add_argument("--timeout-s", type=float, default=300.0)
    args = p.parse_args(argv)
    port = free_port()
    log = Path(tempfile.mkdtemp(prefix="tankeco-shot-")) / "demo.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tankeco", "demo", "--port", str(port), "--interval", "1"],
            cwd=ROOT, stdout=out, stderr=out, env=dict(os.environ, PYTHONPATH=str(ROOT)),
        )  # fmt: skip
    try:
        state = wait_for_demo(proc, port, log, args.timeout_s)
        largest = largest_advice_percent(state)
        if largest > CAP_PERCENT:
            raise SystemExit(f"advice asks for {largest}% at once: not a picture for the README")
        with browser_page(args.width, args.height) as page:
            page.goto(f"http://127.0.0.1:{port}/")
            page.wait_for_selector("body[data-ready='1']", timeout=30_000)
            page.wait_for_timeout(3000)  # a few live points arrive, the forecast band is drawn
            if page.errors:
                raise SystemExit(f"the page reported errors: {page.errors}")
            page.screenshot(path=str(args.out))
        for alert in state["alerts"]:
            print(f"{alert['level']}: {alert['message']}")
        print(f"wrote {args.out}")
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
