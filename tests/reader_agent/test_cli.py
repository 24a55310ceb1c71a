import os
import subprocess
import sys
from pathlib import Path

import pytest

from eid_emulator import CARDS

REPO_ROOT = Path(__file__).resolve().parents[2]


def run_agent(*args, env_extra=None, timeout=30):
    env = {k: v for k, v in os.environ.items() if not k.startswith("READER_AGENT_")}
    env["PYTHONPATH"] = str(REPO_ROOT)
    env.update(env_extra or {})
    return subprocess.run(
        [sys.executable, "-m", "reader_agent", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_generate_key_then_one_virtual_scan(device_server, tmp_path):
    key = tmp_path / "eid.key"
    assert run_agent("--generate-key", "--key-file", str(key)).returncode == 0
    device_server.arm_scan()

    done = run_agent(
        "--virtual-card",
        "chloe",
        "--once",
        "--poll-wait",
        "1",
        "--key-file",
        str(key),
        env_extra={
            "READER_AGENT_SERVER": device_server.url,
            "READER_AGENT_TOKEN": device_server.token,
        },
    )

    assert done.returncode == 0, done.stderr
    assert set(device_server.results.get_nowait().json()) == {
        "surname",
        "given_names",
        "eid_token",
        "read_method",
        "child_card",
    }
    person = CARDS["chloe"]
    output = done.stdout + done.stderr
    for value in (person.surname, person.given_names, person.national_number, person.card_number):
        assert value not in output
    assert "scan done" in output


def test_revoked_token_exits_non_zero(device_server, tmp_path):
    key = tmp_path / "eid.key"
    run_agent("--generate-key", "--key-file", str(key))
    token_file = tmp_path / "token"
    token_file.write_text("revoked\n")

    done = run_agent(
        "--server",
        device_server.url,
        "--token-file",
        str(token_file),
        "--key-file",
        str(key),
        "--virtual-card",
        "alice",
    )

    assert done.returncode == 3
    assert "device token refused" in done.stderr


def test_missing_configuration_is_explained(tmp_path):
    done = run_agent("--virtual-card", "alice", "--key-file", str(tmp_path / "none.key"))

    assert done.returncode == 2
    assert "no server URL" in done.stderr


def test_the_agent_and_emulator_import_no_django():
    pytest.importorskip("smartcard", reason="pyscard not installed (needs libpcsclite-dev, swig)")
    code = (
        "import sys, reader_agent.cli, reader_agent.agent, reader_agent.pcsc, "
        "reader_agent.transport, eid_emulator.__main__; "
        "assert not [m for m in sys.modules if m.split('.')[0] in ('django', 'rest_framework')]"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=30
    )

    assert done.returncode == 0, done.stderr
