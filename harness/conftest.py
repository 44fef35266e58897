# conftest: pytest fixtures around hivekit: custom images, booted firmware processes (always killed), console clients.
from __future__ import annotations

import json
from pathlib import Path

import pytest

from hivekit import BASE_MANIFEST, ConsoleClient, Sim, build_image


@pytest.fixture
def image_builder(tmp_path):
    """build(manifest, fixtures=(...), name=...) -> path of a freshly built image in this test's tmp dir."""
    return lambda manifest, fixtures=(), name="hive": build_image(tmp_path, manifest, tuple(fixtures), name)


@pytest.fixture(scope="session")
def dev_image(tmp_path_factory) -> Path:
    """The board's own manifest (root-task + worker-heart), built once for the tests that only need a hive."""
    manifest = json.loads(BASE_MANIFEST.read_text())
    return build_image(tmp_path_factory.mktemp("dev"), manifest, name="dev")


@pytest.fixture
def hive():
    """start(image, uart='stdio', ready=True) -> Sim; every Sim started here is killed at teardown."""
    started: list[Sim] = []

    def start(image: Path | None, uart: str = "stdio", ready: bool = True, extra: tuple[str, ...] = (),
              env: dict | None = None) -> Sim:
        sim = Sim(image, uart, extra, env)
        started.append(sim)
        if ready:
            sim.wait_ready()
        return sim

    yield start
    for sim in started:
        sim.kill()


@pytest.fixture
def console():
    """connect(port) -> an authenticated-or-not ConsoleClient; all are closed at teardown."""
    clients: list[ConsoleClient] = []

    def connect(port: int) -> ConsoleClient:
        c = ConsoleClient(port)
        clients.append(c)
        return c

    yield connect
    for c in clients:
        c.close()
