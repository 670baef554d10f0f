"""Running ``tankeco import`` in-process, and the fixture files written for these tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tankeco.cli import main

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def tankeco(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of one ``tankeco`` command run in this process."""
    capsys.readouterr()
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def one_error_line(err: str) -> str:
    """The error of a failed command: exactly one line, starting as every CLI error does."""
    # besides the store's notice when the command created it (never created silently)
    lines = [ln for ln in err.strip().splitlines() if "created a new SQLite store" not in ln]
    assert len(lines) == 1, err
    assert lines[0].startswith("tankeco: error: "), err
    assert "Traceback" not in err
    return lines[0]
