"""What the tests need from the machine, and what happens when it is missing.

Locally a missing service or tool (Mosquitto, mosquitto_passwd, openssl, Chromium, a test
dependency) skips the tests that need it, with the reason. CI sets
``TANKECO_REQUIRE_SERVICES=1`` (``.ci/run`` does): there the same absence is a failure,
because a CI run that skipped the integration tests would be green without having
checked them.  ``tests/conftest.py`` applies the same rule to ``pytest.importorskip``.
"""

from __future__ import annotations

import os
from typing import NoReturn

import pytest

SWITCH = "TANKECO_REQUIRE_SERVICES"


def services_required() -> bool:
    """True when the run must have every service (CI), so a missing one fails."""
    return os.environ.get(SWITCH, "") not in ("", "0")


def missing(what: str, how_to_get_it: str) -> NoReturn:
    """Skip the test for want of ``what``, or fail it when the switch is set."""
    if services_required():
        pytest.fail(
            f"{what} is missing and {SWITCH} is set (CI needs it): {how_to_get_it}",
            pytrace=False,
        )
    pytest.skip(f"{what} is missing ({how_to_get_it})")


def _fail_if_required(report: pytest.TestReport | pytest.CollectReport) -> None:
    """Turn an ``importorskip`` skip into a failure when the switch is set.

    The test extra declares every package the tests import, so in CI a module that
    cannot be imported is a broken set-up, not a reason to skip.
    """
    if not (report.skipped and services_required()):
        return
    longrepr = report.longrepr
    reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
    if "could not import" not in reason:
        return  # a skip on purpose (e.g. --benchmark-skip), not a missing requirement
    report.outcome = "failed"
    report.longrepr = f"{reason.removeprefix('Skipped: ')} and {SWITCH} is set (CI needs it)"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> pytest.TestReport:
    report = yield
    _fail_if_required(report)
    return report


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> pytest.CollectReport:
    report = yield
    _fail_if_required(report)
    return report
