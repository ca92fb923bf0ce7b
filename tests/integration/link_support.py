"""Support for the link-a-source browser test: a demo database behind a password-checking server,
and screenshots that count what they cost, so the flow's time is the user's, not the camera's."""

from __future__ import annotations

import secrets
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.integration.helpers import sql
from tests.integration.web_stack import ARTIFACTS, REPO

ROLE = "ws_link_user"
DATABASE = "ws_link_billing"


@dataclass(frozen=True)
class DemoDb:
    host: str
    port: int
    password: str

    def url(self, password: str | None = None) -> str:
        return f"postgresql://{ROLE}:{password or self.password}@{self.host}:{self.port}/{DATABASE}"


@contextmanager
def checked_demo_db() -> Iterator[DemoDb]:
    """The demo's billing database on a private PostgreSQL that checks passwords (scram-sha-256), so a
    wrong password fails as it does on a real server (the CI server trusts every local login)."""
    sys.path.insert(0, str(REPO))
    from include.demo import embedded_pg
    from include.demo.seed import SCRIPTS

    password = "Link-" + secrets.token_hex(8)
    # Not under pytest's tmp folder: as root the server runs as another OS user, who must reach it.
    home = Path(tempfile.mkdtemp(prefix="ws-link-pg-"))
    home.chmod(0o755)
    datadir = home / "data"
    uri = embedded_pg.start(datadir)
    try:
        sql(uri, "SET password_encryption = 'scram-sha-256'", f"CREATE ROLE {ROLE} LOGIN PASSWORD '{password}'",
            f"CREATE DATABASE {DATABASE} OWNER {ROLE}")  # fmt: skip
        hba = datadir / "pg_hba.conf"
        hba.write_text(f"host all {ROLE} 127.0.0.1/32 scram-sha-256\n" + hba.read_text())
        sql(uri, "SELECT pg_reload_conf()")
        host, port = uri.split("@", 1)[1].split("/", 1)[0].rsplit(":", 1)
        demo = DemoDb(host, int(port), password)
        sql(demo.url(), SCRIPTS["billing"])
        yield demo
    finally:
        embedded_pg.stop(datadir)
        shutil.rmtree(home, ignore_errors=True)


@dataclass
class Camera:
    """Screenshots under tests/artifacts/link-*: every step at 1280 px light, the key steps in light
    and dark at 1280 and 390 px, each scrolled to what the step is about; the seconds they take are
    kept apart from the user's time."""

    page: Any
    spent: float = 0.0
    taken: list[str] = field(default_factory=list)

    def __call__(self, name: str, focus: Any = None, every_look: bool = False) -> None:
        started = time.monotonic()
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        looks = LOOKS if every_look else LOOKS[:1]
        for scheme, width, height in looks:
            self.page.emulate_media(color_scheme=scheme)
            self.page.set_viewport_size({"width": width, "height": height})
            self.page.wait_for_timeout(300)
            if focus is not None:
                focus.scroll_into_view_if_needed()
            path = ARTIFACTS / f"link-{name}-{scheme}-{width}.png"
            self.page.screenshot(path=str(path))
            self.taken.append(path.name)
        self.page.emulate_media(color_scheme="light")
        self.page.set_viewport_size({"width": 1280, "height": 800})
        self.spent += time.monotonic() - started


LOOKS = (("light", 1280, 800), ("light", 390, 844), ("dark", 1280, 800), ("dark", 390, 844))
