"""Real headless Chromium (Debian's package) driven by playwright, and a dashboard process.

Playwright is launched with the system Chromium's executable path; it never downloads a
browser.  The flags keep Chromium from talking to anything but the page's own server.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from tests.needs import missing

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def chromium_path() -> str:
    """Debian's Chromium binary; skipped locally without it, a failure in CI."""
    for path in ("/usr/lib/chromium/chromium", "/usr/bin/chromium", shutil.which("chromium")):
        if path and os.access(path, os.X_OK):
            return path
    missing("chromium", "apt-get install chromium; .ci/services.sh installs it")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Dashboard:
    """``python -m tankeco dashboard`` on a free port, its output in a file."""

    def __init__(self, tmp: Path, store_url: str, extra: Sequence[str] = ()) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.log_path = tmp / f"dashboard-{self.port}.log"
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        args = [sys.executable, "-m", "tankeco", "dashboard", "--store", store_url,
                "--port", str(self.port), *extra]  # fmt: skip
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        self.proc = subprocess.Popen(args, cwd=ROOT, stdout=self._log, stderr=self._log, env=env)
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(self.url + "favicon.ico", timeout=1).close()
                break
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError("dashboard did not start:\n" + self.log) from None
                time.sleep(0.1)

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()


@contextmanager
def browser_page(width: int = 1400, height: int = 1000) -> Iterator:
    """A fresh page in headless Chromium, with every request it makes recorded."""
    from playwright.sync_api import sync_playwright

    path = chromium_path()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=path, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            page.requests = []  # type: ignore[attr-defined]
            page.errors = []  # type: ignore[attr-defined]
            page.dialogs = []  # type: ignore[attr-defined]
            page.on("request", lambda r: page.requests.append(r.url))  # type: ignore[attr-defined]
            page.on("pageerror", lambda e: page.errors.append(str(e)))  # type: ignore[attr-defined]

            def on_dialog(d) -> None:  # noqa: ANN001
                page.dialogs.append(d.message)  # type: ignore[attr-defined]
                d.dismiss()

            page.on("dialog", on_dialog)
            yield page
        finally:
            browser.close()
