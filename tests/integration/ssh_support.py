"""A real OpenSSH server (Debian's openssh-server) as a bastion host for tests: started on a free
localhost port with throwaway host and user keys, and the Airflow SSH connections that reach it.

scripts/test.sh installs openssh-server where /usr/sbin/sshd is missing and it runs as root; the
tests install nothing themselves and skip only when sshd is absent.
"""

from __future__ import annotations

import getpass
import json
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

SSHD = Path("/usr/sbin/sshd")
TIMEOUT = 3  # the SSH connections' conn_timeout in these tests (seconds)
MARGIN = 10  # what a bounded failure may take beyond it on a busy machine


@dataclass(frozen=True)
class Bastion:
    port: int
    process: subprocess.Popen[bytes]
    log: Path
    user_key: str  # the private key, as an Airflow SSH connection's extra carries it
    host_key: str  # "ssh-ed25519 AAAA...", for the extra host_key
    folder: Path

    def sessions(self) -> list[str]:
        """sshd's children: one per open SSH connection."""
        pid = self.process.pid
        return Path(f"/proc/{pid}/task/{pid}/children").read_text().split()

    def wait_for_no_sessions(self, seconds: float = 10) -> bool:
        deadline = time.monotonic() + seconds
        while self.sessions():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.1)
        return True


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def keygen(path: Path) -> None:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "ws-test", "-f", str(path)], check=True)


@contextmanager
def running_bastion(folder: Path) -> Iterator[Bastion]:
    """A fresh sshd on a free localhost port that accepts one throwaway user key, stopped after the block."""
    if not SSHD.exists():
        pytest.skip(
            f"{SSHD} is missing: install Debian's openssh-server (scripts/test.sh does so when run as root) "
            "to run the SSH tunnel tests"
        )
    folder.mkdir(parents=True, exist_ok=True)
    keygen(folder / "host_key")
    keygen(folder / "user_key")
    (folder / "authorized_keys").write_text((folder / "user_key.pub").read_text())
    port = free_port()
    (folder / "sshd_config").write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {folder / 'host_key'}\nPidFile {folder / 'sshd.pid'}\n"
        f"AuthorizedKeysFile {folder / 'authorized_keys'}\nPermitRootLogin prohibit-password\nUsePAM no\n"
        "StrictModes no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\nAllowTcpForwarding yes\n"
        "LogLevel DEBUG1\n"
    )
    if os.geteuid() == 0:
        Path("/run/sshd").mkdir(exist_ok=True)  # sshd's privilege separation folder, missing in containers
    log = folder / "sshd.log"
    with log.open("wb") as out:
        process = subprocess.Popen([str(SSHD), "-D", "-e", "-f", str(folder / "sshd_config")], stderr=out)
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"sshd did not start: {log.read_text()}")
            time.sleep(0.05)
    host_key = " ".join((folder / "host_key.pub").read_text().split()[:2])
    warm_up_airflow()
    try:
        yield Bastion(port, process, log, (folder / "user_key").read_text(), host_key, folder)
    finally:
        process.terminate()
        process.wait(10)


def warm_up_airflow() -> None:
    """Pay Airflow's first connection lookup and the SSH provider's import (seconds on a busy machine)
    before any test times a failure: the bound under test is the tunnel's, not the interpreter's."""
    from airflow.providers.ssh.hooks.ssh import SSHHook
    from airflow.sdk import BaseHook

    os.environ["AIRFLOW_CONN_WS_WARM_UP"] = json.dumps({"conn_type": "ssh", "host": "127.0.0.1"})
    try:
        assert SSHHook(ssh_conn_id="ws_warm_up").remote_host == "127.0.0.1"
        BaseHook.get_connection("ws_warm_up")
    finally:
        del os.environ["AIRFLOW_CONN_WS_WARM_UP"]


def ssh_conn(bastion: Bastion, port: int | None = None, **extra: Any) -> str:
    """An Airflow SSH connection in JSON form: the throwaway user key and the bastion's host key in the extra."""
    extra = {"private_key": bastion.user_key, "host_key": bastion.host_key, "conn_timeout": TIMEOUT} | extra
    extra = {k: v for k, v in extra.items() if v is not None}
    conn = {"conn_type": "ssh", "host": "127.0.0.1", "port": port or bastion.port, "login": getpass.getuser()}
    return json.dumps(conn | {"extra": extra})


def key_lines(key: str) -> list[str]:
    """The base64 body lines of a private key: none of them may reach a log or a message."""
    return [line for line in key.splitlines() if line and not line.startswith("-----")]
