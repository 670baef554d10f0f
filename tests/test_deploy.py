"""The shipped deployment files (deploy/): systemd units and the compose file.

What a keeper installs must run: every command in them is parsed by tankeco's own
argument parser (an option that does not exist fails here, not at 3 a.m. on the
keeper's server), the units pass ``systemd-analyze verify`` where systemd is installed,
every published port is on 127.0.0.1 and no secret is on a command line.
"""

from __future__ import annotations

import configparser
import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from tankeco.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
SYSTEMD = DEPLOY / "systemd"
UNITS = ("tankeco-bridge.service", "tankeco-dashboard.service")
DROP_IN = SYSTEMD / "mosquitto.service.d" / "tankeco.conf"
ENV_EXAMPLE = SYSTEMD / "tankeco.env.example"
COMPOSE = DEPLOY / "compose.yaml"
INSTALLED = "/opt/tankeco/venv/bin/tankeco"
SHIPPED_BROKER_CONF = ROOT / "tankeco" / "data" / "mosquitto.conf"
#: Options whose value is a secret: never on a command line (``ps`` shows it to everyone).
SECRET_OPTIONS = {"--token", "--password"}


def unit(path: Path) -> configparser.ConfigParser:
    """A unit file as systemd reads it: sections, keys as written (case kept)."""
    cp = configparser.ConfigParser(interpolation=None, strict=False, delimiters=("=",))
    cp.optionxform = str  # type: ignore[assignment,method-assign]
    cp.read_string(path.read_text(encoding="utf-8"))
    return cp


def environment_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines of an EnvironmentFile (comments and blank lines skipped)."""
    env = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            env[key.strip()] = value.strip()
    return env


def expand(command: str, env: dict[str, str]) -> list[str]:
    """systemd's expansion of ExecStart: ``${X}`` stays one word, a lone ``$X`` word is
    split at whitespace into zero or more words (systemd.service(5), "Command lines")."""
    out: list[str] = []
    for word in shlex.split(command):
        lone = re.fullmatch(r"\$([A-Za-z_][A-Za-z0-9_]*)", word)
        if lone:
            out += env.get(lone.group(1), "").split()
        else:
            out.append(re.sub(r"\$\{([A-Za-z_]\w*)\}", lambda m: env[m.group(1)], word))
    return out


def parse(argv: list[str]):  # noqa: ANN201
    """Run tankeco's real parser on a command line; an unknown option exits 2 (fails)."""
    assert argv[0].endswith("tankeco"), argv
    assert not SECRET_OPTIONS & set(argv), argv
    return build_parser().parse_args(argv[1:])


@pytest.mark.parametrize("name", UNITS)
def test_units_restart_run_as_their_own_user_and_are_hardened(name: str) -> None:
    cp = unit(SYSTEMD / name)
    svc = cp["Service"]
    assert svc["Restart"] == "on-failure"
    assert svc["User"] == svc["Group"] == "tankeco"
    assert svc["EnvironmentFile"] == "/etc/tankeco/tankeco.env"
    assert svc["NoNewPrivileges"] == "yes" and svc["ProtectSystem"] == "strict"
    assert svc["ProtectHome"] == "yes" and svc["PrivateTmp"] == "yes"
    assert "/var/lib/tankeco" in svc["ReadWritePaths"].split()
    assert svc["StateDirectory"] == "tankeco"
    assert cp["Install"]["WantedBy"] == "multi-user.target"
    assert svc["ExecStart"].startswith(INSTALLED + " ")


def test_unit_commands_are_real_tankeco_commands_with_the_shipped_settings() -> None:
    env = environment_file(ENV_EXAMPLE)
    store = urlsplit(env["TANKECO_STORE"])
    assert store.password is None  # a password in the URL would be on the command line
    bridge = parse(expand(unit(SYSTEMD / UNITS[0])["Service"]["ExecStart"], env))
    assert (bridge.command, bridge.action) == ("bridge", "run")
    assert bridge.broker == "mqtt://127.0.0.1:1883" and bridge.store == env["TANKECO_STORE"]
    assert bridge.client_id == "tankeco-bridge-1"  # a fixed id keeps the broker's session
    dash = parse(expand(unit(SYSTEMD / UNITS[1])["Service"]["ExecStart"], env))
    assert dash.command == "dashboard" and (dash.host, dash.port) == ("127.0.0.1", 8050)
    assert dash.broker == "mqtt://127.0.0.1:1883" and dash.store == env["TANKECO_STORE"]
    # the variants the env file's comments offer parse too
    more = env | {
        "TANKECO_BRIDGE_OPTS": env["TANKECO_BRIDGE_OPTS"]
        + " --mapping /etc/tankeco/mapping.toml --username tankeco"
        " --password-file /etc/tankeco/mqtt-password",
        "TANKECO_DASHBOARD_HOST": "0.0.0.0",
        "TANKECO_DASHBOARD_OPTS": "--broker mqtts://homeassistant.local:8883 --username"
        " tankeco --password-file /etc/tankeco/ha-password --tls-ca /etc/tankeco/ha-ca.pem"
        " --token-file /etc/tankeco/dashboard-token",
    }
    text = ENV_EXAMPLE.read_text(encoding="utf-8")
    for option in ("--mapping", "--password-file", "--token-file", "--tls-ca", "PGPASSFILE"):
        assert option in text
    assert parse(expand(unit(SYSTEMD / UNITS[0])["Service"]["ExecStart"], more)).mapping
    assert parse(expand(unit(SYSTEMD / UNITS[1])["Service"]["ExecStart"], more)).token_file


def test_the_broker_drop_in_runs_mosquitto_on_the_shipped_settings() -> None:
    starts = [
        line.split("=", 1)[1]
        for line in DROP_IN.read_text(encoding="utf-8").splitlines()
        if line.startswith("ExecStart=")
    ]
    assert starts == ["", "/usr/sbin/mosquitto -c /etc/tankeco/mosquitto.conf"]
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    # the README copies the shipped file to the path the drop-in names
    assert "/etc/tankeco/mosquitto.conf" in readme and "mosquitto.conf" in readme


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze not installed")
def test_systemd_analyze_verify_accepts_the_units(tmp_path: Path) -> None:
    """``systemd-analyze verify`` on copies whose tankeco path is an executable that exists
    here (verify checks that ExecStart's program is executable; the installed path is
    the keeper's venv)."""
    exe = tmp_path / "bin" / "tankeco"
    exe.parent.mkdir()
    exe.symlink_to(shutil.which("python3") or "/usr/bin/python3")
    copies = []
    for name in UNITS:
        copy = tmp_path / name
        copy.write_text((SYSTEMD / name).read_text().replace(INSTALLED, str(exe)))
        copies.append(str(copy))
    # the drop-in next to a mosquitto.service: Debian's own where installed
    base = Path("/lib/systemd/system/mosquitto.service")
    mosq = tmp_path / "mosquitto.service"
    mosq.write_text(
        base.read_text()
        if base.exists()
        else "[Unit]\nDescription=Mosquitto\n[Service]\n"
        "ExecStart=/usr/sbin/mosquitto -c /etc/mosquitto/mosquitto.conf\n"
    )
    (tmp_path / "mosquitto.service.d").mkdir()
    shutil.copy(DROP_IN, tmp_path / "mosquitto.service.d" / "tankeco.conf")
    if Path("/usr/sbin/mosquitto").exists():
        copies.append(str(mosq))
    proc = subprocess.run(
        ["systemd-analyze", "verify", *copies], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.strip() == "" and proc.stdout.strip() == "", proc.stderr + proc.stdout


def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


def test_compose_binds_every_port_to_localhost_and_runs_real_commands() -> None:
    c = compose()
    services = c["services"]
    assert set(services) == {"mosquitto", "postgres", "bridge", "dashboard"}
    assert services["mosquitto"]["image"].startswith("eclipse-mosquitto:")
    assert services["postgres"]["image"].startswith("postgres:")
    for name, svc in services.items():
        for port in svc.get("ports", []):
            assert isinstance(port, str) and port.startswith("127.0.0.1:"), (name, port)
        for key, value in (svc.get("environment") or {}).items():
            # secrets come from files: PASSWORD variables only as *_FILE
            assert "PASSWORD" not in key or key.endswith("_FILE"), (name, key, value)
    bridge = parse(services["bridge"]["command"])
    assert bridge.command == "bridge" and bridge.broker == "mqtt://mosquitto:1883"
    assert urlsplit(bridge.store).hostname == "postgres"
    assert urlsplit(bridge.store).password is None
    dash = parse(services["dashboard"]["command"])
    assert dash.command == "dashboard" and dash.token_file == "/run/secrets/dashboard_token"
    assert dash.store == bridge.store
    for name in ("bridge", "dashboard"):
        assert services[name]["environment"]["PGPASSFILE"] == "/run/secrets/pgpass"
        assert "pgpass" in services[name]["secrets"]
        assert services[name]["read_only"] is True
    for secret in c["secrets"].values():
        assert secret["file"].startswith("./secrets/")
    assert "/deploy/secrets/" in (ROOT / ".gitignore").read_text().splitlines()
    for name in ("bridge", "dashboard"):
        build = services[name]["build"]
        assert (DEPLOY / build["context"] / build["dockerfile"]).is_file()
        assert services[name]["image"] == "tankeco:local"


def test_compose_broker_is_the_shipped_file_with_only_listener_and_data_path_changed(
    tmp_path: Path,
) -> None:
    """The container command applied to the shipped file, as the container would (with
    this machine's sh and sed; ``$$`` is compose's escape for ``$``)."""
    mosq = compose()["services"]["mosquitto"]
    mount = next(v for v in mosq["volumes"] if v.endswith(":/tankeco/mosquitto.conf:ro"))
    assert (DEPLOY / mount.split(":")[0]).resolve() == SHIPPED_BROKER_CONF
    script = mosq["command"][2].replace("$$", "$")
    make_conf, run = script.split(" && ")
    assert run.strip() == "exec mosquitto -c /tmp/tankeco-mosquitto.conf"
    out = tmp_path / "m.conf"
    make_conf = make_conf.replace("/tankeco/mosquitto.conf", str(SHIPPED_BROKER_CONF))
    make_conf = make_conf.replace("/tmp/tankeco-mosquitto.conf", str(out))
    subprocess.run(["sh", "-c", make_conf], check=True, timeout=30, env=dict(os.environ))
    shipped = SHIPPED_BROKER_CONF.read_text().splitlines()
    got = out.read_text().splitlines()
    changed = [(a, b) for a, b in zip(shipped, got, strict=True) if a != b]
    assert changed == [
        ("listener 1883 127.0.0.1", "listener 1883"),
        ("persistence_location /var/lib/mosquitto/", "persistence_location /mosquitto/data/"),
    ]


def test_the_readme_installs_every_shipped_file() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Running for months", 1)[1].split("\n## ", 1)[0]
    for path in (
        "deploy/systemd/tankeco-bridge.service",
        "deploy/systemd/tankeco-dashboard.service",
        "deploy/systemd/mosquitto.service.d/tankeco.conf",
        "deploy/systemd/tankeco.env.example",
        "deploy/compose.yaml",
    ):
        assert path in section, path
        assert (ROOT / path).is_file(), path
    assert "systemctl enable --now" in section and "docker compose" in section


@pytest.mark.integration
def test_the_unit_commands_run_with_the_shipped_settings(tmp_path: Path) -> None:
    """The bridge's and the dashboard's ExecStart, expanded with the shipped settings file,
    run: only the store path, the broker's port and the dashboard's port are this test's
    (the keeper's /var/lib/tankeco and port 1883 are not ours to use here)."""
    import sys
    import time
    import urllib.request

    from tests.integration.brokers import Mosquitto, free_port
    from tests.integration.helpers import BridgeProcess

    broker = Mosquitto(tmp_path / "b").start()
    shipped = environment_file(ENV_EXAMPLE)
    env = shipped | {
        "TANKECO_STORE": f"sqlite:///{tmp_path / 'tank.db'}",
        "TANKECO_BROKER": broker.url,
        "TANKECO_DASHBOARD_PORT": str(free_port()),
        "TANKECO_DASHBOARD_OPTS": shipped["TANKECO_DASHBOARD_OPTS"].replace(
            shipped["TANKECO_BROKER"], broker.url
        ),
    }
    bridge_argv = expand(unit(SYSTEMD / UNITS[0])["Service"]["ExecStart"], env)
    dash_argv = expand(unit(SYSTEMD / UNITS[1])["Service"]["ExecStart"], env)
    assert broker.url in dash_argv  # the dashboard publishes for Home Assistant
    bridge = BridgeProcess(tmp_path, bridge_argv[2:])
    dash = None
    try:
        bridge.wait_for_log("connected")
        dash = subprocess.Popen(
            [sys.executable, "-m", "tankeco", *dash_argv[1:]],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT,
            env=dict(os.environ, PYTHONPATH=str(ROOT)),
        )  # fmt: skip
        url = f"http://127.0.0.1:{env['TANKECO_DASHBOARD_PORT']}/"
        deadline = time.monotonic() + 60
        while True:
            assert dash.poll() is None, dash.stderr.read().decode() if dash.stderr else ""
            try:
                with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310
                    assert response.status == 200
                    break
            except OSError:
                assert time.monotonic() < deadline, "the dashboard did not answer"
                time.sleep(0.2)
        # SIGTERM, as systemctl stop sends it: a clean stop, which Restart=on-failure
        # leaves stopped
        assert bridge.terminate() == 0
    finally:
        if dash is not None and dash.poll() is None:
            dash.terminate()
            try:
                dash.wait(timeout=15)
            except subprocess.TimeoutExpired:
                dash.kill()
                dash.wait()
        if bridge.proc.poll() is None:
            bridge.kill()
        broker.stop()
