"""The repository's layout holds: programs depend on the contract and never on each other, no
import circles, small modules, and the node agent installs without the API service's stack."""

from __future__ import annotations

import email.parser
import os
import shutil
import subprocess
import sys
import venv
import zipfile
from collections.abc import Iterator
from pathlib import Path

import grimp
import pytest

REPO = Path(__file__).resolve().parent.parent
SERVICES = REPO / "services"
PACKAGES = (
    "switchyard_contract",
    "switchyard_api",
    "switchyard_agent",
    "switchyard_cli",
    "switchyard_kube",
)
API_STACK = {"fastapi", "sqlalchemy", "alembic", "psycopg", "psycopg-binary", "starlette-admin"}
MAX_MODULE_LINES = 500


def test_import_boundaries_hold() -> None:
    """.importlinter: agent ↛ api, api ↛ agent, cli ↛ api, contract ↛ any program."""
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint), "--config", str(REPO / ".importlinter")],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph.modules):
        if root in index:
            continue
        work: list[tuple[str, Iterator[str]]] = []

        def enter(module: str, work: list[tuple[str, Iterator[str]]] = work) -> None:
            index[module] = low[module] = len(index)
            stack.append(module)
            on_stack.add(module)
            imported = graph.find_modules_directly_imported_by(module) & graph.modules
            work.append((module, iter(sorted(imported))))

        enter(root)
        while work:
            module, pending = work[-1]
            advanced = False
            for target in pending:
                if target not in index:
                    enter(target)
                    advanced = True
                    break
                if target in on_stack:
                    low[module] = min(low[module], index[target])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[module])
            if low[module] == index[module]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == module:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_no_import_circles_in_the_programs() -> None:
    graph = grimp.build_graph(*PACKAGES, exclude_type_checking_imports=True)
    assert _cycles(graph) == []


def test_the_cycle_finder_finds_a_circle() -> None:
    graph = grimp.ImportGraph()
    for module in ("p", "p.a", "p.b", "p.c"):
        graph.add_module(module)
    graph.add_import(importer="p.a", imported="p.b")
    graph.add_import(importer="p.b", imported="p.a")
    graph.add_import(importer="p.c", imported="p.a")
    assert _cycles(graph) == [["p.a", "p.b"]]


def test_no_module_over_the_size_limit() -> None:
    too_long = {}
    for path in SERVICES.rglob("*.py"):
        parts = path.relative_to(SERVICES).parts
        if "_pb2" in path.name or any(p.startswith(".") or p == "build" for p in parts):
            continue
        lines = len(path.read_text().splitlines())
        if lines > MAX_MODULE_LINES:
            too_long[str(path.relative_to(REPO))] = lines
    assert too_long == {}


def _agent_wheel(out: Path) -> Path:
    subprocess.run(
        [
            *(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps"),
            *("--no-build-isolation", "-w", str(out)),
            *(str(SERVICES / "contract"), str(SERVICES / "node-agent")),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = out.glob("switchyard_agent-*.whl")
    return wheel


def _requirement_names(wheel: Path) -> set[str]:
    with zipfile.ZipFile(wheel) as archive:
        (metadata,) = (n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        message = email.parser.Parser().parsestr(archive.read(metadata).decode())
    names = set()
    for requirement in message.get_all("Requires-Dist") or []:
        name = requirement.split(";")[0].split("[")[0]
        for separator in "<>=!~ (":
            name = name.split(separator)[0]
        names.add(name.strip().lower().replace("_", "-"))
    return names


def test_agent_wheel_declares_none_of_the_api_stack(tmp_path: Path) -> None:
    wheel = _agent_wheel(tmp_path)
    names = _requirement_names(wheel)
    assert {"switchyard-contract", "grpcio", "protobuf", "vpp-papi"} <= names
    assert names & API_STACK == set()
    with zipfile.ZipFile(wheel) as archive:
        files = archive.namelist()
    assert any(f.startswith("gobgpapi/gobgp_pb2") for f in files)
    assert not any(f.startswith("switchyard_api/") for f in files)


@pytest.mark.slow
def test_agent_installs_alone_in_a_fresh_venv(tmp_path: Path) -> None:
    """What a node installs: the contract and the agent, from the package index."""
    target = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(target)
    python = target / "bin" / "python"
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    install = subprocess.run(
        [
            *(str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"),
            *(str(SERVICES / "contract"), str(SERVICES / "node-agent")),
        ],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=600,
    )
    assert install.returncode == 0, install.stderr[-3000:]
    listed = subprocess.run(
        [str(python), "-m", "pip", "list", "--format=freeze"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    installed = {line.split("==")[0].lower().replace("_", "-") for line in listed.stdout.split()}
    assert "switchyard-agent" in installed
    assert installed & API_STACK == set()
    agent = target / "bin" / "switchyard-agent"
    version = subprocess.run(
        [str(agent), "--version"], capture_output=True, text=True, env=env, check=False
    )
    assert version.returncode == 0, version.stderr
    # What the DaemonSet's install-cni runs, from a regular (not editable) install as in the image.
    cni = [str(target / "bin" / "switchyard-cni")]
    dirs = [f"--bin-dir={tmp_path / 'bin'}", f"--conf-dir={tmp_path / 'net.d'}"]
    done = subprocess.run(
        [*cni, "install", *dirs, "--pod-cidr=10.1.1.0/24"], capture_output=True, env=env
    )
    assert done.returncode == 0, done.stderr
    plugin = subprocess.run(
        [str(tmp_path / "bin" / "switchyard-cni")], env={"CNI_COMMAND": "VERSION"},
        input=b"{}", capture_output=True, check=False,
    )  # fmt: skip
    assert plugin.returncode == 0 and b"1.0.0" in plugin.stdout, plugin.stderr
    shutil.rmtree(target)
