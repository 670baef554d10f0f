"""The CI switch: with TANKECO_REQUIRE_SERVICES=1 a missing requirement fails, not skips."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.needs import SWITCH, missing

ROOT = Path(__file__).resolve().parents[1]

# A throwaway suite: one test that lacks a tool, one that lacks a module, one skipped on
# purpose (not a missing requirement: it must stay a skip), one that passes.
SUITE = """
import pytest
from tests.needs import missing

def test_lacks_a_tool():
    missing("frobnicator", "apt-get install frobnicator")

def test_lacks_a_module():
    pytest.importorskip("tankeco_no_such_module")

def test_skipped_on_purpose():
    pytest.skip("not today")

def test_passes():
    pass
"""


def run_suite(tmp_path: Path, switch: str | None, suite: str = SUITE) -> dict[str, str]:
    (tmp_path / "test_suite.py").write_text(suite)
    env = {k: v for k, v in os.environ.items() if k != SWITCH}
    env["PYTHONPATH"] = str(ROOT)
    if switch is not None:
        env[SWITCH] = switch
    report = tmp_path / "report.json"
    code = (
        "import json, sys, pytest\n"
        "outcomes = {}\n"
        "class Collect:\n"
        "    def pytest_runtest_logreport(self, report):\n"
        "        if report.when == 'call' or report.outcome != 'passed':\n"
        "            outcomes[report.nodeid.split('::')[-1]] = report.outcome\n"
        "    def pytest_collectreport(self, report):\n"
        "        if report.outcome != 'passed':\n"
        "            outcomes[report.nodeid] = report.outcome\n"
        "rc = pytest.main(['-q', '-p', 'no:cacheprovider', '-p', 'tests.needs', "
        "'--rootdir', sys.argv[1], sys.argv[1]], plugins=[Collect()])\n"
        "json.dump({'rc': int(rc), **outcomes}, open(sys.argv[2], 'w'))\n"
    )
    subprocess.run(
        [sys.executable, "-c", code, str(tmp_path), str(report)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    return json.loads(report.read_text())


def test_without_the_switch_missing_requirements_skip(tmp_path: Path) -> None:
    out = run_suite(tmp_path, None)
    assert out == {
        "rc": 0,
        "test_lacks_a_tool": "skipped",
        "test_lacks_a_module": "skipped",
        "test_skipped_on_purpose": "skipped",
        "test_passes": "passed",
    }


def test_with_the_switch_missing_requirements_fail(tmp_path: Path) -> None:
    out = run_suite(tmp_path, "1")
    assert out == {
        "rc": 1,
        "test_lacks_a_tool": "failed",
        "test_lacks_a_module": "failed",
        "test_skipped_on_purpose": "skipped",
        "test_passes": "passed",
    }


def test_missing_names_the_thing_and_how_to_get_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SWITCH, "1")
    with pytest.raises(pytest.fail.Exception, match="frobnicator is missing.*apt-get install"):
        missing("frobnicator", "apt-get install frobnicator")
    monkeypatch.setenv(SWITCH, "0")
    with pytest.raises(pytest.skip.Exception, match="frobnicator is missing"):
        missing("frobnicator", "apt-get install frobnicator")


def test_a_module_level_importorskip_fails_collection_with_the_switch(tmp_path: Path) -> None:
    """tests/hydraulics/test_vs_epanet.py skips its whole module without wntr."""
    suite = "import pytest\n\npytest.importorskip('tankeco_no_such_module')\n\n\ndef test_x():\n"
    suite += "    pass\n"
    assert run_suite(tmp_path, None, suite) == {"rc": 5, "test_suite.py": "skipped"}
    with_switch = run_suite(tmp_path, "1", suite)
    assert with_switch["test_suite.py"] == "failed" and with_switch["rc"] != 0
