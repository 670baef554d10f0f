import json
import subprocess
import sys
from pathlib import Path

from tankeco.store import Batch, QuarantineRecord, open_store
from tests.store.test_store import reading

ROOT = Path(__file__).resolve().parents[1]


def tankeco(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tankeco", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )


def test_bridge_status_text_and_json(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}"
    s = open_store(url)
    s.write(
        Batch(
            readings=[reading(1), reading(2)],
            quarantine=[QuarantineRecord(1, "a/b", b"85", "sensor_sentinel")],
        )
    )
    s.close()
    text = tankeco("bridge", "status", "--store", url)
    assert text.returncode == 0
    assert "accepted" in text.stdout and "quarantined:sensor_sentinel" in text.stdout
    assert "home/main/temp1" in text.stdout
    data = json.loads(tankeco("bridge", "status", "--store", url, "--json").stdout)
    assert data["counters"]["accepted"] == 2
    assert data["sensors"][0]["sensor"] == "temp1" and data["sensors"][0]["last_seen"].endswith("Z")


def test_bridge_usage_errors_are_one_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}"
    for args in (
        ["bridge", "--store", url],
        ["bridge", "--store", url, "--broker", "http://x"],
        ["bridge", "--store", "mysql://x", "--broker", "mqtt://127.0.0.1:1"],
        ["bridge", "--store", url, "--broker", "mqtt://127.0.0.1:1", "--username", "u",
         "--password-file", str(tmp_path / "missing")],
        ["bridge", "--store", url, "--broker", "mqtt://127.0.0.1:1",
         "--mapping", str(tmp_path / "m")],
    ):  # fmt: skip
        p = tankeco(*args)
        assert p.returncode == 2, (args, p.stderr)
        assert len(p.stderr.strip().splitlines()) == 1 and "Traceback" not in p.stderr


def test_bridge_retention_folds_old_readings(tmp_path: Path) -> None:
    import time

    from tankeco.store import Reading

    url = f"sqlite:///{tmp_path / 's.db'}"
    now = int(time.time() * 1000)
    s = open_store(url)
    old = [
        Reading(
            now - 40 * 86_400_000 + i * 60_000,
            "home",
            "main",
            "t1",
            "temperature",
            20.0 + i % 2,
            "°C",
        )
        for i in range(120)
    ]
    s.write(Batch(readings=[*old, Reading(now, "home", "main", "t1", "temperature", 25.0, "°C")]))
    s.close()
    p = tankeco("bridge", "retention", "--store", url, "--keep-raw", "30d", "--bucket-s", "3600")
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("folded 120 readings")
    s = open_store(url)
    assert [r.value for r in s.readings()] == [25.0]
    aggs = s.aggregates()
    assert sum(a.n for a in aggs) == 120 and len(aggs) in (2, 3)
    assert min(a.min for a in aggs) == 20.0 and max(a.max for a in aggs) == 21.0
    s.close()
    bad = tankeco("bridge", "retention", "--store", url, "--keep-raw", "forever")
    assert bad.returncode == 2 and "--keep-raw" in bad.stderr
