"""A real S3 HTTP endpoint for the tests: moto's `ThreadedMotoServer` in a child process.

In a child process, not a thread of the test process: delta-rs holds the GIL while it waits on
the network, so a server thread in the same interpreter never answers it (every request times
out). Moto checks signatures here (INITIAL_NO_AUTH_ACTION_COUNT): the first three requests
create an IAM user with a key allowed everything, every later one must be signed with that key,
so a wrong secret is refused as AWS would refuse it.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from typing import Any

from warehouse_sources.warehouse.storage import S3Access

REGION = "us-east-1"
BUCKET = "ws-warehouse"
SERVE = """
import signal, sys
from moto.server import ThreadedMotoServer
server = ThreadedMotoServer(ip_address="127.0.0.1", port=int(sys.argv[1]), verbose=False)
server.start()
signal.sigwait({signal.SIGTERM, signal.SIGINT})
server.stop()
"""
SETUP_ACTIONS = 3  # create_user, put_user_policy, create_access_key


@dataclass(frozen=True)
class S3Server:
    endpoint: str
    access_key_id: str
    secret_access_key: str
    process: subprocess.Popen[bytes]

    def access(self, **changes: Any) -> S3Access:
        fields = dict(access_key_id=self.access_key_id, secret_access_key=self.secret_access_key,
                      endpoint_url=self.endpoint, region=REGION)  # fmt: skip
        return S3Access(**(fields | changes))

    def options(self, **changes: Any) -> dict[str, str]:
        return self.access(**changes).storage_options()

    def client(self) -> Any:
        import boto3

        return boto3.client("s3", endpoint_url=self.endpoint, aws_access_key_id=self.access_key_id,
                            aws_secret_access_key=self.secret_access_key, region_name=REGION)  # fmt: skip

    def fresh_prefix(self) -> str:
        """A warehouse root of its own for one test."""
        return f"s3://{BUCKET}/wh-{uuid.uuid4().hex[:10]}"

    def keys(self, uri: str) -> list[str]:
        """Every object key under `uri` (s3://bucket/prefix)."""
        bucket, _, prefix = uri.removeprefix("s3://").partition("/")
        pages = self.client().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix.rstrip("/") + "/")
        return [item["Key"] for page in pages for item in page.get("Contents", [])]

    def connection_env(self, conn_id: str) -> dict[str, str]:
        """An AIRFLOW_CONN_* variable defining the warehouse's `aws` connection."""
        extra = {"endpoint_url": self.endpoint, "region_name": REGION}
        conn = {"conn_type": "aws", "login": self.access_key_id, "password": self.secret_access_key, "extra": extra}
        return {f"AIRFLOW_CONN_{conn_id.upper()}": json.dumps(conn)}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_listening(port: int, process: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the moto server exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"the moto server did not listen on port {port} within {timeout:.0f} s")


def start() -> S3Server:
    """Start the server, create the user, its key and the bucket; stop it with `stop`."""
    import boto3

    port = _free_port()
    env = {**os.environ, "INITIAL_NO_AUTH_ACTION_COUNT": str(SETUP_ACTIONS)}
    process = subprocess.Popen([sys.executable, "-c", SERVE, str(port)], env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        _wait_listening(port, process)
        endpoint = f"http://127.0.0.1:{port}"
        iam = boto3.client("iam", endpoint_url=endpoint, aws_access_key_id="setup", aws_secret_access_key="setup",
                           region_name=REGION)  # fmt: skip
        iam.create_user(UserName="warehouse")
        policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
        iam.put_user_policy(UserName="warehouse", PolicyName="all", PolicyDocument=json.dumps(policy))
        key = iam.create_access_key(UserName="warehouse")["AccessKey"]
        server = S3Server(endpoint, key["AccessKeyId"], key["SecretAccessKey"], process)
        server.client().create_bucket(Bucket=BUCKET)
    except BaseException:
        stop_process(process)
        raise
    return server


def stop_process(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
