"""The agent's stream client against a scripted controller, with the recording driver."""

from __future__ import annotations

import asyncio
import logging
import random
import shutil
import subprocess
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import grpc
import pytest

from switchyard.v1 import distribution_pb2 as dpb
from switchyard_agent.agent import Agent
from switchyard_agent.drivers.factory import RecordingDataplaneDriver, recording_drivers
from switchyard_agent.drivers.recording import RecordingDriver, recording_driver
from switchyard_agent.persistence import ConfigStore, CorruptStateError, decode, encode
from switchyard_agent.session import Retry, SessionEnd, end_for_goodbye
from switchyard_agent.settings import AgentSettings
from switchyard_agent.stream import Backoff, StreamClient
from switchyard_contract.codec import snapshot_to_proto, to_proto
from switchyard_contract.nodeconfig import (
    Acl,
    AclRule,
    BgpGlobal,
    BgpPeer,
    ManagedInterface,
    NextHop,
    NodeConfig,
    Route,
    SnatConfig,
)

from .fake_controller import FakeController, FakeSession, objects

ACL = Acl("a" * 8, (AclRule(1, "10.0.0.0/8", "0.0.0.0/0"),))
SNAT = SnatConfig("192.0.2.10", None, ("10.0.0.0/8",))
SNAT2 = SnatConfig("192.0.2.11", None, ("10.0.0.0/8",))
BGP = BgpGlobal(64512, "192.0.2.1")
PEER = BgpPeer("192.0.2.254", 64513, password="s3cret")
ROUTE = Route("198.51.100.0/24", (NextHop("192.0.2.254"),))
POD_IF = ManagedInterface("memif1/0", "pod")  # VPP does not have it: pending, not failed
BASE = objects(ACL, SNAT, BGP, PEER)


def settings(target: str, state_dir: Path, **overrides: Any) -> AgentSettings:
    values: dict[str, Any] = {
        "api": target,
        "node": "node-1",
        "token": "secret-token",
        "state_dir": state_dir,
        "metrics_listen": "off",
        "drivers": "recording",
        "reconnect_backoff_min": 0.02,
        "reconnect_backoff_max": 0.2,
        "status_interval": 0.3,
    }
    values.update(overrides)
    return AgentSettings(**values)


def held(driver: RecordingDriver) -> dict[str, object]:
    return {**driver.vpp.values(), **driver.gobgp.values()}


@asynccontextmanager
async def running(
    target: str, state_dir: Path, driver: RecordingDriver | None = None, **overrides: Any
) -> AsyncIterator[tuple[Agent, RecordingDriver]]:
    driver = driver or recording_driver()
    agent = Agent(settings(target, state_dir, **overrides), recording_drivers(driver))
    task = asyncio.create_task(agent.run())
    started = asyncio.create_task(agent.started.wait())
    await asyncio.wait({task, started}, timeout=5, return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        task.result()
    started.cancel()
    try:
        yield agent, driver
    finally:
        agent.stop()
        await asyncio.wait_for(task, 10)


@pytest.fixture
async def controller() -> AsyncIterator[FakeController]:
    ctl = await FakeController().start()
    yield ctl
    await ctl.stop()


async def eventually(check: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)


# --------------------------------------------------------------------------- backoff


def test_backoff_grows_exponentially_up_to_the_cap() -> None:
    bounds: list[tuple[float, float]] = []

    def upper(low: float, high: float) -> float:
        bounds.append((low, high))
        return high

    backoff = Backoff(0.1, 1.0, uniform=upper)
    delays = [backoff.next() for _ in range(7)]
    assert delays == pytest.approx([0.1, 0.2, 0.4, 0.8, 1.0, 1.0, 1.0])
    assert all(low == 0.0 for low, _ in bounds)  # full jitter: anywhere from zero
    backoff.reset()
    assert backoff.next() == pytest.approx(0.1)
    assert 0.5 <= Backoff(0.1, 1.0).long() <= 1.0


def test_backoff_is_jittered() -> None:
    backoff = Backoff(0.5, 30.0, uniform=random.Random(7).uniform)
    for _ in range(4):
        backoff.next()
    ceiling = backoff.ceiling()  # 8 s
    samples = []
    for _ in range(200):
        backoff.attempts = 4
        samples.append(backoff.next())
    assert all(0.0 <= s <= ceiling for s in samples)
    assert len(set(samples)) == len(samples)  # spread, not one value for every agent
    assert min(samples) < ceiling / 4 and max(samples) > ceiling * 3 / 4


def test_goodbye_and_status_policies() -> None:
    def end(reason: dpb.Goodbye.Reason.ValueType) -> SessionEnd:
        return end_for_goodbye(dpb.Goodbye(reason=reason, message="m"))

    assert end(dpb.Goodbye.REASON_SHUTTING_DOWN).retry is Retry.NOW
    assert end(dpb.Goodbye.REASON_REFUSED).loud
    assert end(dpb.Goodbye.REASON_REPLACED).retry is Retry.LONG
    client = StreamClient(
        target="127.0.0.1:1",
        node="n",
        sink=None,  # type: ignore[arg-type]
        backoff=Backoff(1.0, 8.0, uniform=lambda low, high: high),
    )
    assert client._delay(end(dpb.Goodbye.REASON_SHUTTING_DOWN)) == 0.0
    # A second "at once" soon after the first: the backoff, so a loop cannot spin.
    assert client._delay(end(dpb.Goodbye.REASON_SHUTTING_DOWN)) == 1.0
    assert client._delay(end(dpb.Goodbye.REASON_REPLACED)) == 8.0
    assert client._delay(end(dpb.Goodbye.REASON_REFUSED)) == 4.0


# --------------------------------------------------------------------------- protocol


async def test_snapshot_is_applied_acked_persisted_and_reported(
    controller: FakeController, tmp_path: Path
) -> None:
    async with running(controller.target, tmp_path) as (agent, driver):
        session = await controller.next_session()
        assert session.hello.node == "node-1"
        assert session.last_applied_revision is None  # first start: asks for a snapshot
        assert session.metadata["authorization"] == "Bearer secret-token"
        assert set(session.hello.capabilities) == {"vpp", "gobgp"}
        assert session.received[0].WhichOneof("message") == "hello"

        session.snapshot(5, {**BASE, POD_IF.key: POD_IF})
        assert await session.ack() == 5
        assert held(driver) == BASE  # the pod interface waits for VPP to have it
        status = await session.status(lambda s: s.applied_revision == 5)
        kinds = [m.WhichOneof("message") for m in session.received]
        first_status_at_5 = next(
            i for i, m in enumerate(session.received) if m.status.applied_revision == 5
        )
        assert kinds.index("ack") < first_status_at_5  # the answer goes out first
        assert list(status.pending_keys) == [POD_IF.key]
        assert status.components == {"vpp": "connected", "gobgp": "connected"}
        saved = ConfigStore(tmp_path).load()
        assert saved is not None and saved.revision == 5
        assert saved.objects == {**BASE, POD_IF.key: POD_IF}
        assert agent.metrics.health()["appliedRevision"] == 5
        # Periodic status (status_interval 0.3 s) even without change.
        count = len(session.statuses)
        await eventually(lambda: len(session.statuses) > count + 1)


async def test_delta_is_applied_and_acked(controller: FakeController, tmp_path: Path) -> None:
    async with running(controller.target, tmp_path) as (_, driver):
        session = await controller.next_session()
        session.snapshot(5, BASE)
        assert await session.ack() == 5
        session.delta(5, 7, objects(SNAT2, ROUTE), removals=[PEER.key])
        assert await session.ack() == 7
        assert held(driver) == objects(ACL, SNAT2, BGP, ROUTE)
        saved = ConfigStore(tmp_path).load()
        assert saved is not None and saved.revision == 7
        assert saved.objects == objects(ACL, SNAT2, BGP, ROUTE)


async def test_driver_failure_nacks_the_key_and_next_good_revision_acks(
    controller: FakeController, tmp_path: Path
) -> None:
    async with running(controller.target, tmp_path) as (_, driver):
        driver.vpp.fail(key=SNAT.key, message="bad address")  # permanent
        session = await controller.next_session()
        session.snapshot(3, BASE)
        nack = await session.nack()
        assert nack.revision == 3
        assert [(e.key, e.message) for e in nack.errors] == [
            ("snat", "create failed: bad address (create snat)")
        ]
        assert held(driver) == objects(ACL, BGP, PEER)  # the others are applied
        status = await session.status(lambda s: s.applied_revision == 3 and bool(s.last_error))
        assert status.last_error.startswith("snat: create failed")

        driver.vpp.clear_faults()
        session.delta(3, 4, objects(SNAT2))
        assert await session.ack() == 4
        assert held(driver) == objects(ACL, SNAT2, BGP, PEER)


async def test_undecodable_object_is_nacked_and_the_rest_applied(
    controller: FakeController, tmp_path: Path
) -> None:
    async with running(controller.target, tmp_path) as (_, driver):
        session = await controller.next_session()
        session.snapshot(2, objects(ACL, SNAT))
        assert await session.ack() == 2

        bad_snat = to_proto(SNAT2)
        bad_snat.key = "snat-typo"  # does not match the object's key
        unknown = dpb.Snapshot(node="node-1", revision=3)
        unknown.objects.append(to_proto(ACL))
        unknown.objects.append(to_proto(BGP))
        unknown.objects.append(bad_snat)
        unknown.objects.add(key="future/1")  # a type this agent does not know
        session.send(dpb.ControllerMessage(snapshot=unknown))
        nack = await session.nack()
        assert nack.revision == 3
        assert [e.key for e in nack.errors] == ["future/1", "snat-typo"]
        assert "key does not match" in nack.errors[1].message
        # ACL kept, BGP added, and SNAT (absent from the snapshot) removed.
        assert held(driver) == objects(ACL, BGP)

        # A bad upsert in a delta keeps the key's last good state on the node.
        bad_acl = to_proto(Acl(ACL.name, ()))
        bad_acl.acl.rules.add()  # action UNSPECIFIED
        delta = dpb.Delta(node="node-1", from_revision=3, to_revision=4)
        delta.upserts.append(bad_acl)
        delta.upserts.append(to_proto(SNAT2))
        session.send(dpb.ControllerMessage(delta=delta))
        nack = await session.nack()
        # A Nack lists every error in effect: those of revision 3 still are.
        assert nack.revision == 4
        assert [e.key for e in nack.errors] == [ACL.key, "future/1", "snat-typo"]
        assert held(driver) == objects(ACL, BGP, SNAT2)
        session.snapshot(5, objects(ACL, BGP))  # a clean revision clears them
        assert await session.ack() == 5


async def test_chunked_snapshot_is_applied_once_complete(
    controller: FakeController, tmp_path: Path
) -> None:
    many = [Route(f"198.51.{i}.0/24", (NextHop("192.0.2.254"),)) for i in range(40)]
    config = objects(*many, BGP, PEER)
    async with running(controller.target, tmp_path) as (_, driver):
        session = await controller.next_session()
        chunks = session.snapshot(9, config, chunk_bytes=200)
        assert len(chunks) > 5 and all(c.continued for c in chunks[:-1])
        assert await session.ack() == 9
        assert held(driver) == config
        await asyncio.sleep(0.1)
        assert session.answers.empty()  # one answer for the whole snapshot


async def test_delta_from_another_revision_reconnects_for_a_snapshot(
    controller: FakeController, tmp_path: Path
) -> None:
    async with running(controller.target, tmp_path) as (_, driver):
        session = await controller.next_session()
        session.snapshot(5, BASE)
        assert await session.ack() == 5
        session.delta(6, 7, objects(ROUTE))  # the agent holds 5: never applied
        second = await controller.next_session()
        assert second.last_applied_revision is None  # asks for a snapshot
        assert ROUTE.key not in held(driver)
        second.snapshot(7, {**BASE, ROUTE.key: ROUTE})
        assert await second.ack() == 7
        assert session.answers.empty()
        second.goodbye(dpb.Goodbye.REASON_SHUTTING_DOWN)
        third = await controller.next_session()
        assert third.last_applied_revision == 7  # back to resuming with deltas


async def test_reconnects_after_the_server_goes_away_and_resumes(tmp_path: Path) -> None:
    controller = await FakeController().start()
    port = controller.port
    async with running(controller.target, tmp_path) as (agent, driver):
        session = await controller.next_session()
        session.snapshot(5, BASE)
        assert await session.ack() == 5
        await controller.stop()
        await asyncio.sleep(0.2)  # a few failed attempts against the closed port
        controller = await FakeController(port=port).start()
        try:
            session = await controller.next_session()
            assert session.last_applied_revision == 5
            session.delta(5, 6, objects(ROUTE))
            assert await session.ack() == 6
            assert held(driver) == {**BASE, ROUTE.key: ROUTE}
            reconnects = agent.metrics.registry.get_sample_value(
                "switchyard_agent_reconnects_total", {"target": "controller"}
            )
            assert reconnects == 1
        finally:
            await controller.stop()


async def test_goodbye_shutting_down_reconnects_at_once(
    controller: FakeController, tmp_path: Path
) -> None:
    # A backoff far longer than the test: only an immediate reconnect passes.
    slow: dict[str, Any] = {"reconnect_backoff_min": 20.0, "reconnect_backoff_max": 30.0}
    async with running(controller.target, tmp_path, None, **slow):
        session = await controller.next_session()
        session.snapshot(1, BASE)
        assert await session.ack() == 1
        session.goodbye(dpb.Goodbye.REASON_SHUTTING_DOWN, "rolling restart")
        second = await controller.next_session(timeout=3)
        assert second.last_applied_revision == 1


async def test_rejected_credentials_keep_retrying_and_log_loudly(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    controller = await FakeController(token="another-token").start()
    try:
        with caplog.at_level(logging.ERROR, logger="switchyard_agent.stream"):
            async with running(controller.target, tmp_path):
                await eventually(lambda: controller.rejected >= 3)
        errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
        assert any(
            "rejects this agent's credentials" in m and "UNAUTHENTICATED" in m for m in errors
        )
    finally:
        await controller.stop()


async def test_goodbye_refused_keeps_retrying(controller: FakeController, tmp_path: Path) -> None:
    async def refuse(session: FakeSession) -> None:
        session.goodbye(dpb.Goodbye.REASON_REFUSED, "unknown node")

    controller.on_connect = refuse
    async with running(controller.target, tmp_path):
        for _ in range(3):
            await controller.next_session()


async def test_late_ack_once_a_transient_failure_is_retried(
    controller: FakeController, tmp_path: Path
) -> None:
    async with running(controller.target, tmp_path) as (_, driver):
        # Three inline attempts fail, the first background retry fails, the second succeeds.
        driver.vpp.fail(key=SNAT.key, times=4, message="vpp busy")
        session = await controller.next_session()
        session.snapshot(3, BASE)
        nack = await session.nack()
        assert [e.key for e in nack.errors] == ["snat"]
        assert await session.ack(timeout=5) == 3  # the same revision, now converged
        assert held(driver) == BASE


async def test_dataplane_connection_loss_reconnects_and_resyncs(
    controller: FakeController, tmp_path: Path
) -> None:
    async with running(controller.target, tmp_path) as (agent, driver):
        session = await controller.next_session()
        session.snapshot(1, BASE)
        assert await session.ack() == 1
        driver.vpp.disconnect()
        driver.vpp.drop(ACL.key)  # VPP restarted behind the agent's back: state lost
        session.delta(1, 2, objects(ROUTE))
        assert await session.ack() == 2  # parked for the resync: pending, not failed
        await eventually(lambda: held(driver) == {**BASE, ROUTE.key: ROUTE})
        assert driver.vpp.connected
        adapter = agent.drivers[0]
        assert isinstance(adapter, RecordingDataplaneDriver) and adapter.reconnects >= 2
        vpp_reconnects = agent.metrics.registry.get_sample_value(
            "switchyard_agent_reconnects_total", {"target": "vpp"}
        )
        assert vpp_reconnects == 1
        await session.status(lambda s: s.applied_revision == 2 and not s.pending_keys)


# --------------------------------------------------------------------------- fail static


async def test_restart_applies_the_persisted_config_before_the_controller(
    tmp_path: Path,
) -> None:
    controller = await FakeController().start()
    port = controller.port
    async with running(controller.target, tmp_path) as (_, driver):
        session = await controller.next_session()
        session.snapshot(5, BASE)
        assert await session.ack() == 5
    await controller.stop()

    # The agent restarts while the API is away, on a dataplane that lost its state too.
    fresh = recording_driver()
    async with running(f"127.0.0.1:{port}", tmp_path, fresh) as (agent, driver):
        assert held(driver) == BASE  # applied before (and without) any controller
        assert agent.metrics.health()["appliedRevision"] == 5
        assert agent.applied_revision == 5
        controller = await FakeController(port=port).start()
        try:
            session = await controller.next_session()
            assert session.last_applied_revision == 5  # so the controller can send a delta
            session.delta(5, 6, removals=[PEER.key])
            assert await session.ack() == 6
            assert held(driver) == objects(ACL, SNAT, BGP)
        finally:
            await controller.stop()


def _tls_files(directory: Path) -> dict[str, Path]:
    """A CA, a server certificate for localhost and a client certificate for node-1."""

    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=directory, check=True, capture_output=True)

    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    run(
        "req",
        "-x509",
        *ec,
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "1",
        "-subj",
        "/CN=test-ca",
    )
    for name, ext in (
        ("server", "subjectAltName=DNS:localhost"),
        ("client", "keyUsage=digitalSignature"),
    ):
        cn = "localhost" if name == "server" else "node-1"
        run("req", *ec, "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={cn}")
        (directory / f"{name}.ext").write_text(ext + "\n")
        run(
            "x509",
            "-req",
            "-in",
            f"{name}.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            f"{name}.pem",
            "-days",
            "1",
            "-extfile",
            f"{name}.ext",
        )
    return {p.name: p for p in directory.iterdir()}


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
async def test_tls_with_client_certificate(tmp_path: Path) -> None:
    pki = tmp_path / "pki"
    pki.mkdir()
    files = _tls_files(pki)
    server_credentials = grpc.ssl_server_credentials(
        [(files["server.key"].read_bytes(), files["server.pem"].read_bytes())],
        root_certificates=files["ca.pem"].read_bytes(),
        require_client_auth=True,
    )
    controller = await FakeController(credentials=server_credentials).start()
    tls = {
        "tls_ca": files["ca.pem"],
        "tls_cert": files["client.pem"],
        "tls_key": files["client.key"],
    }
    try:
        async with running(f"localhost:{controller.port}", tmp_path / "s", None, **tls):
            session = await controller.next_session()
            assert session.metadata["authorization"] == "Bearer secret-token"
            assert controller.peer_identities[-1] == [b"node-1"]
            session.snapshot(1, BASE)
            assert await session.ack() == 1
    finally:
        await controller.stop()


def test_persisted_file_round_trips_and_detects_damage(tmp_path: Path) -> None:
    store = ConfigStore(tmp_path / "state")
    assert store.load() is None
    store.save("node-1", 12, BASE)
    assert (store.path.stat().st_mode & 0o777) == 0o600  # BGP passwords inside
    loaded = store.load()
    assert loaded is not None
    assert (loaded.node, loaded.revision, loaded.objects) == ("node-1", 12, BASE)

    data = encode("node-1", 12, BASE)
    payload = data.partition(b"\n")[2]
    assert dpb.Snapshot.FromString(payload) == snapshot_to_proto(NodeConfig("node-1", BASE), 12)
    with pytest.raises(CorruptStateError, match="truncated"):
        decode(data[:-3])
    with pytest.raises(CorruptStateError, match="checksum"):
        decode(data[:-1] + bytes([data[-1] ^ 1]))
    store.path.write_bytes(data[:-3])
    assert store.load() is None  # damaged: ignored, moved aside
    assert store.path.with_name(store.path.name + ".corrupt").exists()
