import subprocess
import sys


def test_help_lists_commands_and_exits_zero():
    proc = subprocess.run(
        [sys.executable, "-m", "tankeco", "--help"], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0
    assert "tankeco simulate --days 90" in proc.stdout


def test_unknown_command_is_one_line_exit_2():
    proc = subprocess.run(
        [sys.executable, "-m", "tankeco", "frobnicate"], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
