"""Forward a free local port through an open SSH connection to a database behind a bastion host.

Plain paramiko, no Airflow: the Airflow side (`airflow/tunnel.py`) opens and authenticates the SSH
connection from an Airflow SSH connection and hands its transport here. Each connection the reader
makes to the local port becomes one `direct-tcpip` channel, opened by the bastion to the database
host and port as the bastion sees them. The reason the bastion refused a channel is kept, so a
reader's "connection closed" can be explained.
"""

from __future__ import annotations

import contextlib
import select
import socket
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Self

    import paramiko

LOCAL_HOST = "127.0.0.1"
CHUNK = 64 * 1024
POLL_SECONDS = 0.2


class PortForward:
    """`127.0.0.1:<free port>` -> (remote_host, remote_port) through `transport`, while entered."""

    def __init__(self, transport: paramiko.Transport, remote_host: str, remote_port: int, *, timeout: float) -> None:
        self._transport = transport
        self.remote = (remote_host, remote_port)
        self._timeout = timeout
        self._stop = threading.Event()
        self._listener: socket.socket | None = None
        self._threads: list[threading.Thread] = []
        self._pairs: list[tuple[socket.socket, paramiko.Channel]] = []
        self._lock = threading.Lock()
        self.last_refusal: str | None = None

    @property
    def local_address(self) -> tuple[str, int]:
        """Where the reader connects instead of the database."""
        if self._listener is None:
            raise RuntimeError("the port forward is not open")
        host, port = self._listener.getsockname()[:2]
        return host, port

    def __enter__(self) -> Self:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.bind((LOCAL_HOST, 0))  # loopback only: nothing else on the worker can use the tunnel
        listener.listen(8)
        listener.settimeout(POLL_SECONDS)
        self._listener = listener
        self._spawn(self._accept_loop)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        with self._lock:
            pairs, self._pairs = self._pairs, []
        for sock, channel in pairs:
            _close(sock, channel)
        for thread in self._threads:
            thread.join(timeout=5)
        if self._listener is not None:
            self._listener.close()

    def _spawn(self, target: Callable[..., None], *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True, name="ws-ssh-forward")
        self._threads.append(thread)
        thread.start()

    def _accept_loop(self) -> None:
        assert self._listener is not None
        while not self._stop.is_set():
            try:
                sock, peer = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            channel = self._open_channel(peer)
            if channel is None:
                sock.close()
                continue
            with self._lock:
                self._pairs.append((sock, channel))
            self._spawn(self._pump, sock, channel)

    def _open_channel(self, peer: tuple[str, int]) -> paramiko.Channel | None:
        """A channel from the bastion to the database, or None with the bastion's reason kept."""
        try:
            return self._transport.open_channel("direct-tcpip", self.remote, peer, timeout=self._timeout)
        except Exception as exc:  # ChannelException (refused, unreachable), SSHException (timeout, transport gone)
            self.last_refusal = " ".join(str(exc).split()) or type(exc).__name__
            return None

    def _pump(self, sock: socket.socket, channel: paramiko.Channel) -> None:
        """Copy bytes both ways until either side closes or the forward stops."""
        try:
            while not self._stop.is_set():
                readable, _, _ = select.select([sock, channel], [], [], POLL_SECONDS)
                if sock in readable and not _copy(sock.recv, channel.sendall):
                    return
                if channel in readable and not _copy(channel.recv, sock.sendall):
                    return
        except OSError:  # a side went away mid-copy; the reader sees its connection closed
            return
        finally:
            _close(sock, channel)


def _copy(recv: Callable[[int], bytes], send: Callable[[bytes], object]) -> bool:
    data = recv(CHUNK)
    if not data:
        return False
    send(data)
    return True


def _close(sock: socket.socket, channel: paramiko.Channel) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()
    channel.close()
