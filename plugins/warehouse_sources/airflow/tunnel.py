"""An Airflow SSH connection -> an open SSH tunnel to a database behind a bastion host, for one task.

The SSH provider's `SSHHook` reads the connection (login, password, `key_file`, `private_key`,
`private_key_passphrase`, `host_key`, `no_host_key_check`, `conn_timeout`, ...), so the extras
mean what the provider documents. Every step of opening the connection is bounded by the
connect timeout and tried once: Airflow's task retries are the retry policy. A bastion that does
not answer is transient (retried); one that answers and refuses us fails the task for good.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from warehouse_sources.errors import SourceConnectionError, SyncFatalError

if TYPE_CHECKING:
    import logging

    from warehouse_sources.sources.tunnel import PortForward

SSH_CONN_TYPES = ("ssh", "sftp")
DEFAULT_TIMEOUT = 10.0
SECRET_EXTRAS = ("private_key", "private_key_passphrase")


class TunnelUnreachableError(SourceConnectionError):
    """The bastion did not answer in time or refused the TCP connection: left for Airflow's retries."""


class TunnelRefusedError(SyncFatalError):
    """The bastion answered and refused us (login, key, host key), or the connection is unusable."""


@dataclass(frozen=True)
class Bastion:
    """The SSH host in front of a database, as its Airflow connection names it (no secrets)."""

    conn_id: str
    host: str
    port: int
    login: str
    timeout: float
    secrets: tuple[str, ...]
    compress: bool = False

    @property
    def label(self) -> str:
        user = f"{self.login}@" if self.login else ""
        return f"SSH bastion {user}{self.host}:{self.port} (Airflow connection {self.conn_id!r})"

    def redact(self, text: str) -> str:
        for secret in sorted(self.secrets, key=len, reverse=True):
            text = text.replace(secret, "***")
        return text


def bastion_of(conn: Any) -> Bastion:
    """Check an SSH connection's fields; ValueError names what to fix."""
    if conn.conn_type not in SSH_CONN_TYPES:
        raise ValueError(
            f"connection {conn.conn_id!r} has type {conn.conn_type!r}; ssh_tunnel needs an 'ssh' connection"
        )
    if not conn.host or any(mark in conn.host for mark in ("://", "@", "/")):
        raise ValueError(f"connection {conn.conn_id!r}: set the bastion's host name (only the host) as its host")
    extra = conn.extra_dejson if isinstance(conn.extra_dejson, dict) else {}
    try:
        timeout = float(DEFAULT_TIMEOUT if extra.get("conn_timeout") in (None, "") else extra["conn_timeout"])
    except (TypeError, ValueError):
        raise ValueError(f"connection {conn.conn_id!r}: extra conn_timeout must be a number of seconds") from None
    if not 0 < timeout <= 600:
        raise ValueError(f"connection {conn.conn_id!r}: extra conn_timeout must be between 0 and 600 seconds")
    secrets = [s for s in [conn.password or ""] + [str(extra.get(k) or "") for k in SECRET_EXTRAS] if s]
    # A key's body lines too, in case one is printed alone; not its BEGIN/END frame, which is in every key.
    lines = [line.strip() for s in secrets if "\n" in s for line in s.splitlines()]
    lines = [line for line in lines if len(line) >= 8 and not line.startswith("-----")]
    # Off unless asked for (the provider's default is on): zlib in the task's thread halved a sync's
    # rows/s on a fast link. Worth it only on a slow one.
    compress = str(extra.get("compress", "false")).lower() == "true"
    port = int(conn.port or 22)
    return Bastion(conn.conn_id, conn.host, port, conn.login or "", timeout, (*secrets, *lines), compress)


def resolve_bastion(conn_id: str, source: str) -> Bastion:
    """Look the SSH connection up through Airflow and mask its secrets before anything logs them."""
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException
    from airflow.sdk.log import mask_secret

    try:
        conn = BaseHook.get_connection(conn_id)
    except AirflowNotFoundException:
        raise TunnelRefusedError(
            f"source {source!r}: the SSH connection {conn_id!r} named by ssh_tunnel.conn_id is not defined; "
            "create it (Admin > Connections, type SSH, or an AIRFLOW_CONN_* variable) or fix the source file"
        ) from None
    try:
        bastion = bastion_of(conn)
    except ValueError as exc:
        raise TunnelRefusedError(f"source {source!r}: {exc}") from None
    for secret in bastion.secrets:
        mask_secret(secret)
    return bastion


@contextmanager
def open_tunnel(conn_id: str, source: str, remote: tuple[str, int], log: logging.Logger | Any) -> Iterator[PortForward]:
    """A local port forwarded to `remote` (host, port as the bastion sees them) while the block runs.

    The SSH connection closes when the block ends, whether it ended well or not.
    """
    from warehouse_sources.sources.tunnel import PortForward

    bastion = resolve_bastion(conn_id, source)
    if remote[0].startswith("/"):
        raise TunnelRefusedError(
            f"source {source!r}: the database host is a socket path; through {bastion.label} set the database's "
            "host name as the bastion sees it"
        )
    client = _connect(bastion, source, remote)
    try:
        transport = client.get_transport()
        assert transport is not None  # connected just above
        with PortForward(transport, *remote, timeout=bastion.timeout) as forward:
            host, port = forward.local_address
            log.info("SSH tunnel open: %s:%s -> %s:%s through %s", host, port, *remote, bastion.label)
            yield forward
    finally:
        client.close()
        log.info("SSH tunnel through %s closed", bastion.label)


def _connect(bastion: Bastion, source: str, remote: tuple[str, int]) -> Any:
    """A connected, authenticated paramiko client, or one error saying what to check.

    The TCP connection to the bastion is ours (handed to paramiko as its socket), so a login that
    fails half-way is closed at once instead of lingering on the bastion until its grace time.
    """
    hook: Any = None
    try:
        hook = _hook_class()(
            ssh_conn_id=bastion.conn_id,
            conn_timeout=int(max(bastion.timeout, 1)),
            banner_timeout=bastion.timeout,
            auth_timeout=int(max(bastion.timeout, 1)),
            conn_retry_attempts=1,
        )
        hook.compress = bastion.compress
        return hook.get_conn()
    except Exception as exc:
        _close_half_open(getattr(hook, "__dict__", {}).get("host_proxy"))
        error = tunnel_failure(exc, bastion, source, remote)
    raise error  # outside the handler: the library's traceback may carry what we redacted


def _close_half_open(sock: Any) -> None:
    """Stop the SSH session paramiko started on our socket (if it got that far), then close the socket."""
    import threading

    import paramiko

    if sock is None:
        return
    for thread in threading.enumerate():
        if isinstance(thread, paramiko.Transport) and thread.sock is sock:
            thread.close()
            thread.join(timeout=2)
    sock.close()


def _hook_class() -> type:
    """The provider's SSHHook, opening the TCP connection itself unless ~/.ssh/config names a ProxyCommand."""
    import socket
    from functools import cached_property

    import paramiko
    from airflow.providers.ssh.hooks.ssh import SSHHook

    class BoundedSSHHook(SSHHook):
        @cached_property
        def host_proxy(self) -> Any:
            if self.host_proxy_cmd:
                return paramiko.ProxyCommand(self.host_proxy_cmd)
            return socket.create_connection((self.remote_host, self.port), timeout=self.conn_timeout)

    return BoundedSSHHook


def tunnel_failure(exc: BaseException, bastion: Bastion, source: str, remote: tuple[str, int]) -> Exception:
    """Sort a failure to open the tunnel into retry (no answer) or fail for good (refused), with the fix."""
    import paramiko

    where = f"source {source!r}: cannot open the SSH tunnel to {remote[0]}:{remote[1]} through {bastion.label}"
    text = bastion.redact(" ".join(str(exc).split())) or type(exc).__name__
    if isinstance(exc, paramiko.BadHostKeyException):
        return TunnelRefusedError(
            f"{where}: the bastion's host key is not the one the connection expects ({text}); if the bastion was "
            "rebuilt, update the connection's extra host_key, otherwise treat it as a possible interception"
        )
    if isinstance(exc, paramiko.AuthenticationException) and "timeout" not in text.lower():
        return TunnelRefusedError(
            f"{where}: the bastion refused the login ({text}); check the connection's login and its key (extra "
            "private_key or key_file, private_key_passphrase) or password, and that the public key is in that "
            "user's authorized_keys on the bastion"
        )
    if isinstance(exc, paramiko.SSHException) and "known_hosts" in text:
        return TunnelRefusedError(
            f"{where}: the bastion's host key is unknown ({text}); put it in the connection's extra host_key "
            f"(a line of `ssh-keyscan -p {bastion.port} {bastion.host}`, like 'ssh-ed25519 AAAA...'), or set "
            "no_host_key_check: true, which gives up protection against interception"
        )
    if isinstance(exc, (OSError, EOFError, paramiko.SSHException)):
        return TunnelUnreachableError(
            f"{where}: the bastion did not answer ({text}; connect timeout {bastion.timeout:g} s); check that it is "
            "up, the connection's host and port, and that this worker may reach it (firewall, VPN); Airflow retries"
        )
    fix = "fix the connection (Admin > Connections)"
    if "key" in text.lower():
        fix = (
            "check the key in the connection's extra (whole, with its BEGIN and END lines) and, for an encrypted key, "
        )
        fix += "private_key_passphrase"
    return TunnelRefusedError(f"{where}: the SSH connection's settings cannot be used ({text}); {fix}")
