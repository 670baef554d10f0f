"""Username/password and TLS against a throwaway Mosquitto; clear one-line errors."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import pytest

from tests.integration.brokers import Mosquitto
from tests.integration.helpers import (
    BridgeProcess,
    Publisher,
    count_accepted,
    native_payload,
    wait_for,
)
from tests.needs import missing

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def make_password_file(path: Path, user: str, password: str) -> None:
    tool = shutil.which("mosquitto_passwd")
    if tool is None:
        missing("mosquitto_passwd", "apt-get install mosquitto")
    subprocess.run([tool, "-b", "-c", str(path), user, password], check=True, capture_output=True)
    path.chmod(0o644)


def make_ca_and_server_cert(d: Path) -> tuple[Path, Path, Path]:
    """A throwaway CA and a server certificate for 127.0.0.1 signed by it (EC P-256)."""
    if shutil.which("openssl") is None:
        missing("openssl", "apt-get install openssl")
    d.mkdir(parents=True, exist_ok=True)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]

    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=d)

    run("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
        "-subj", "/CN=tankeco test CA")  # fmt: skip
    run("req", *ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1")
    (d / "ext.cnf").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    run("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "ext.cnf")  # fmt: skip
    for f in d.iterdir():
        f.chmod(0o644)
    return d / "ca.pem", d / "server.pem", d / "server.key"


def args(url: str, store: str, *extra: str) -> list[str]:
    return ["--broker", url, "--store", store, "--session-expiry", "60", *extra]


def send(pub: Publisher, n: int) -> None:
    now_ms = int(time.time() * 1000)
    for i in range(n):
        pub.publish("tankeco/v1/home/main/t1/state", native_payload(i, now_ms - 1000 + i))
    pub.wait_all()


def test_username_password_works_and_wrong_password_is_one_line(tmp_path: Path) -> None:
    pw = tmp_path / "passwd"
    make_password_file(pw, "tank", "s3cret")
    broker = Mosquitto(tmp_path / "b", extra=f"password_file {pw}", allow_anonymous=False).start()
    try:
        good = tmp_path / "good.txt"
        good.write_text("s3cret\n")
        bad = tmp_path / "bad.txt"
        bad.write_text("guess\n")
        store = f"sqlite:///{tmp_path / 's.db'}"
        wrong = BridgeProcess(
            tmp_path, args(broker.url, store, "--username", "tank", "--password-file", str(bad))
        )
        assert wrong.wait(20) == 2
        err = wrong.log.strip().splitlines()
        assert "Traceback" not in wrong.log
        assert err[-1].startswith("tankeco: error: broker mqtt://127.0.0.1:")
        assert "refused the connection" in err[-1]
        assert "password" in err[-1].lower() or "not authorized" in err[-1].lower()

        ok = BridgeProcess(
            tmp_path, args(broker.url, store, "--username", "tank", "--password-file", str(good))
        )
        ok.wait_for_log("connected")
        time.sleep(0.3)
        pub = Publisher(broker.port, username="tank", password="s3cret")
        send(pub, 20)
        wait_for(lambda: count_accepted(store) == 20, 20, "20 readings")
        assert ok.terminate() == 0
        pub.close()
    finally:
        broker.stop()


def test_tls_with_private_ca_and_a_clear_error_without_it(tmp_path: Path) -> None:
    ca, cert, key = make_ca_and_server_cert(tmp_path / "pki")
    broker = Mosquitto(
        tmp_path / "b", extra=f"cafile {ca}\ncertfile {cert}\nkeyfile {key}\n"
    ).start()
    url = f"mqtts://127.0.0.1:{broker.port}"
    store = f"sqlite:///{tmp_path / 's.db'}"
    try:
        untrusted = BridgeProcess(tmp_path, args(url, store))  # system CAs do not know ours
        assert untrusted.wait(20) == 2
        last = untrusted.log.strip().splitlines()[-1]
        assert last.startswith(f"tankeco: error: TLS with {url} failed")
        assert "Traceback" not in untrusted.log

        bridge = BridgeProcess(tmp_path, args(url, store, "--tls-ca", str(ca)))
        bridge.wait_for_log("connected")
        time.sleep(0.3)
        pub = Publisher(broker.port, tls_ca=str(ca))
        send(pub, 20)
        wait_for(lambda: count_accepted(store) == 20, 20, "20 readings over TLS")
        assert bridge.terminate() == 0
        pub.close()
    finally:
        broker.stop()
