"""What can be checked of docker/ without a Docker engine: the compose file parses; every service,
image, volume, variable and connection it references is defined; the image installs the package
the way CI does, at the Airflow version constraints.txt pins. (The deployment itself runs in
tests/integration/test_celery_deployment.py, from this machine's services.)"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
DOCKER = REPO / "docker"
VARIABLE = re.compile(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)(:?[-?][^}]*)?\}")
AIRFLOW_SERVICES = ("api-server", "scheduler", "dag-processor", "triggerer", "worker", "airflow-init")


def dotenv() -> dict[str, str]:
    lines = (DOCKER / ".env").read_text().splitlines()
    pairs = [line.split("=", 1) for line in lines if line.strip() and not line.startswith("#")]
    return {key: value for key, value in pairs}


def interpolate(text: str, values: dict[str, str]) -> str:
    """Compose's own substitution: ${VAR}, ${VAR:-default}, ${VAR:?error}; $$ is a literal $."""

    def one(match: re.Match[str]) -> str:
        name, modifier = match.group(1), match.group(2) or ""
        if name in values:
            return values[name]
        assert modifier.lstrip(":").startswith("-"), f"${{{name}}} is neither in docker/.env nor defaulted"
        return modifier.lstrip(":")[1:]

    return VARIABLE.sub(one, text).replace("$$", "$")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    document = yaml.safe_load(interpolate((DOCKER / "docker-compose.yaml").read_text(), dotenv()))
    assert isinstance(document, dict)
    return document


def test_every_variable_is_in_the_env_file_or_defaulted_and_every_env_value_is_used() -> None:
    text = (DOCKER / "docker-compose.yaml").read_text()
    used = {match.group(1) for match in VARIABLE.finditer(text)}
    defaulted = {m.group(1) for m in VARIABLE.finditer(text) if (m.group(2) or "").lstrip(":").startswith("-")}
    assert used - defaulted <= set(dotenv()), sorted(used - defaulted - set(dotenv()))
    assert set(dotenv()) <= used, sorted(set(dotenv()) - used)


def test_the_deployment_has_every_component_and_celery_wired_to_redis(compose: dict[str, Any]) -> None:
    services = compose["services"]
    wanted = {"postgres", "redis", "minio", "sources-db", *AIRFLOW_SERVICES}
    assert wanted <= set(services), sorted(wanted - set(services))
    for name in AIRFLOW_SERVICES:
        env = services[name]["environment"]
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor", name
        assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://redis:"), name
        assert services[name]["build"]["dockerfile"] == "docker/Dockerfile", name
    assert "container_name" not in services["worker"]  # `--scale worker=N` needs generated names
    assert services["worker"]["command"] == "celery worker"


def test_every_referenced_service_and_volume_is_defined(compose: dict[str, Any]) -> None:
    services, volumes = compose["services"], set(compose["volumes"])
    mounted: set[str] = set()
    for name, service in services.items():
        assert "image" in service or "build" in service, f"{name} has no image"
        depends = service.get("depends_on", {})
        assert set(depends) <= set(services) - {name}, f"{name} depends on {sorted(set(depends) - set(services))}"
        for mount in service.get("volumes", []):
            source = mount.split(":", 1)[0]
            if not source.startswith((".", "/", "~")):
                mounted.add(source)
    assert mounted == volumes, f"mounted {sorted(mounted)}, declared {sorted(volumes)}"
    build = services["worker"]["build"]
    assert (DOCKER / build["context"] / build["dockerfile"]).resolve() == DOCKER / "Dockerfile"


def test_hosts_in_urls_and_connections_are_services(compose: dict[str, Any]) -> None:
    services = compose["services"]
    env = services["worker"]["environment"]
    # The hosts of http, redis and postgresql URLs (an s3:// URL names a bucket).
    url = re.compile(r"(?:https?|redis|postgresql(?:\+\w+)?)://(?:[^@/\s\"]*@)?([a-z][a-z0-9-]*)")
    hosts = {m.group(1) for value in env.values() for m in url.finditer(str(value))}
    assert hosts <= set(services), sorted(hosts - set(services))
    assert {"postgres", "redis", "minio", "sources-db", "api-server"} <= hosts
    warehouse = json.loads(env["AIRFLOW_CONN_" + env["AIRFLOW__WAREHOUSE_SOURCES__WAREHOUSE_CONN_ID"].upper()])
    assert warehouse["conn_type"] == "aws" and warehouse["login"] == dotenv()["MINIO_ROOT_USER"]
    demo_sources = (REPO / "include" / "sources").glob("*.yaml")
    conn_ids = {yaml.safe_load(path.read_text()).get("conn_id") for path in demo_sources}
    for conn_id in conn_ids - {None}:
        assert f"AIRFLOW_CONN_{conn_id.upper()}" in env, f"the demo's connection {conn_id} is not defined"


def dockerfile_lines() -> list[str]:
    """The Dockerfile's instructions, each on one line (continuations joined)."""
    return (DOCKER / "Dockerfile").read_text().replace("\\\n", " ").splitlines()


def dockerfile_install() -> list[str]:
    run = next(line for line in dockerfile_lines() if line.startswith("RUN pip install"))
    return shlex.split(run.removeprefix("RUN ").split("&&")[0])


def test_the_image_installs_the_package_as_ci_does_at_the_pinned_airflow() -> None:
    pins = dict(line.split("==", 1) for line in (REPO / "constraints.txt").read_text().splitlines() if "==" in line)
    base = re.search(r"^FROM apache/airflow:(\S+)-python(\S+)$", (DOCKER / "Dockerfile").read_text(), re.M)
    assert base, "docker/Dockerfile must start FROM apache/airflow:<version>-python<version>"
    assert base.group(1) == pins["apache-airflow"]
    assert f"Python {base.group(2)}" in (REPO / "constraints.txt").read_text().splitlines()[0]
    bootstrap = (REPO / "scripts" / "bootstrap.sh").read_text()
    assert '-c constraints.txt -e ".[$extras]"' in bootstrap  # CI's install, which the image follows
    argv = dockerfile_install()
    assert argv[argv.index("-c") + 1].endswith("/constraints.txt")
    package = next(arg for arg in argv if arg.startswith("/opt/warehouse-sources/src["))
    extras = set(package.split("[", 1)[1].rstrip("]").split(","))
    assert "deploy" in extras, "the image needs the deploy extra (the Celery provider)"
    deploy = re.search(r"^deploy =\n((?:    .+\n)+)", (REPO / "setup.cfg").read_text(), re.M)
    assert deploy and "apache-airflow-providers-celery" in deploy.group(1)
    for requirement in deploy.group(1).split():
        assert requirement.lower() in pins, f"{requirement} is not pinned in constraints.txt"


def test_every_file_the_image_copies_exists() -> None:
    for line in dockerfile_lines():
        if line.startswith("COPY"):
            sources = [arg for arg in shlex.split(line)[1:-1] if not arg.startswith("--")]
            missing = [source for source in sources if not (REPO / source).exists()]
            assert not missing, f"docker/Dockerfile copies {missing}, which the repo does not have"


def test_the_image_ships_every_dag_file_in_dags() -> None:
    copied = {
        arg
        for line in dockerfile_lines()
        if line.startswith("COPY") and line.rstrip().endswith("/opt/airflow/dags/")
        for arg in shlex.split(line)[1:-1]
        if not arg.startswith("--")
    }
    shipped = {f"dags/{path.name}" for path in (REPO / "dags").glob("*.py")}
    assert shipped <= copied, f"docker/Dockerfile does not copy {sorted(shipped - copied)} into /opt/airflow/dags/"
