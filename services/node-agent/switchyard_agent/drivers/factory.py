"""Builds the agent's dataplane drivers by name.

* "recording": the in-memory recording dataplanes (tests, demos), as two drivers named like
  the dataplanes they stand for, "vpp" and "gobgp".
* "vpp", "gobgp": imported lazily from `switchyard_agent.drivers.vpp` / `.gobgp`. Each of those
  packages provides

      def create_driver(options: DriverOptions) -> DataplaneDriver

  (`DataplaneDriver` is the protocol in `drivers.protocols`). `create_driver` must not
  fail because the daemon is down: the agent calls `reconnect()` at start and again, with
  backoff, after a ConnectionLost. If the package cannot be imported (or lacks
  `create_driver`), `DriverUnavailable` says why and the agent refuses to start.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..descriptors import ConnectionLost, Descriptor
from . import HOST_INTERFACE_KIND, host_interface_key
from .protocols import DataplaneDriver, DataplaneFacts, DriverUnavailable, InterfaceFacts
from .recording import RecordingDataplane, RecordingDriver, recording_driver

__all__ = [
    "DriverOptions",
    "DriverUnavailable",
    "RecordingDataplaneDriver",
    "build_drivers",
    "recording_drivers",
]


@dataclass(frozen=True, slots=True)
class DriverOptions:
    """What the drivers get from the agent's settings."""

    vpp_api_socket: str = "/run/vpp/api.sock"
    gobgp_api: str = "127.0.0.1:50051"
    allow_ipv6_frontends: bool = False
    # A directory of the driver's own (e.g. what a dump cannot report), under the agent's.
    state_dir: Path | None = None


class RecordingDataplaneDriver:
    """Adapts one RecordingDataplane (and its descriptors) to DataplaneDriver."""

    def __init__(self, dataplane: RecordingDataplane, descriptors: Sequence[Descriptor[Any]]):
        self.dataplane = dataplane
        self._descriptors = list(descriptors)
        self.reconnects = 0

    @property
    def name(self) -> str:
        return self.dataplane.name

    def descriptors(self) -> Sequence[Descriptor[Any]]:
        return self._descriptors

    def reconnect(self) -> None:
        self.dataplane.reconnect()
        self.reconnects += 1

    def close(self) -> None:
        pass

    def facts(self) -> DataplaneFacts:
        interfaces = tuple(
            InterfaceFacts(name, (), True) for name in sorted(self.dataplane.host_interfaces)
        )
        return DataplaneFacts(version="recording", interfaces=interfaces)


class RecordingInterfacesDriver(RecordingDataplaneDriver):
    """The recording dataplane that has interfaces (VPP's stand-in): like the VPP driver it
    reports an interface that is plugged or unplugged later, by an event and on a dump."""

    def watch_interfaces(self, changed: Callable[[], None]) -> None:
        self.dataplane.interface_watchers.append(changed)

    def interface_keys(self) -> dict[str, object]:
        if not self.dataplane.connected:
            raise ConnectionLost(f"{self.name}: connection lost")
        return {host_interface_key(name): name for name in set(self.dataplane.host_interfaces)}


def recording_drivers(driver: RecordingDriver | None = None) -> list[RecordingDataplaneDriver]:
    """One adapter per dataplane of a recording driver (a new one by default)."""
    driver = driver or recording_driver()
    drivers = []
    for plane in (driver.vpp, driver.gobgp):
        descriptors = [d for d in driver.descriptors if d.dataplane == plane.name]
        has_interfaces = any(d.kind == HOST_INTERFACE_KIND for d in descriptors)
        kind = RecordingInterfacesDriver if has_interfaces else RecordingDataplaneDriver
        drivers.append(kind(plane, descriptors))
    return drivers


class VppDataplaneDriver:
    """Adapts the VPP driver package as it stands (VppConnection + VppDriver) until it
    provides `create_driver` itself."""

    name = "vpp"

    def __init__(self, module: Any, options: DriverOptions) -> None:
        self._incompatible: type[Exception] = module.IncompatibleVppError
        self._pid: int | None = None
        self.connection = module.VppConnection(options.vpp_api_socket)
        state_dir = options.state_dir or Path("/var/lib/switchyard-agent/drivers/vpp")
        self.driver = module.VppDriver(
            self.connection, state_dir, allow_ipv6_frontends=options.allow_ipv6_frontends
        )
        self.events = module.InterfaceEvents(self.connection)

    def descriptors(self) -> Sequence[Descriptor[Any]]:
        return list(self.driver.descriptors)

    def reconnect(self) -> None:
        try:
            self.connection.reconnect()
        except self._incompatible as exc:
            raise DriverUnavailable(f"incompatible VPP: {exc}") from exc

    def close(self) -> None:
        try:
            self.driver.close()
        finally:
            self.connection.disconnect()

    def facts(self) -> DataplaneFacts:
        return DataplaneFacts(version=str(self.connection.version))

    def probe(self) -> bool:
        """control_ping: raises ConnectionLost on a dead socket; a new vpe_pid is a restart."""
        pid = int(self.connection.call("control_ping").vpe_pid)
        restarted = self._pid is not None and pid != self._pid
        self._pid = pid
        return restarted

    def prefetch(
        self,
        upserts: Mapping[str, object],
        removals: Iterable[str] = (),
        *,
        snapshot: bool = False,
    ) -> int:
        return int(self.driver.prefetch(upserts, removals, snapshot=snapshot))

    def watch_interfaces(self, changed: Callable[[], None]) -> None:
        self.events.watch(changed)

    def interface_keys(self) -> dict[str, object]:
        """sw_interface_dump; also refreshes the descriptors' name -> sw_if_index index."""
        self.driver.ctx.interfaces.refresh()
        by_name = self.driver.ctx.interfaces.by_name
        return {
            host_interface_key(name): self.events.identity(index) for name, index in by_name.items()
        }


def _import_driver(name: str, options: DriverOptions) -> DataplaneDriver:
    module_name = f"{__package__}.{name}"
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise DriverUnavailable(
            f"the {name} driver cannot be loaded ({module_name}: {exc})"
        ) from exc
    create = getattr(module, "create_driver", None)
    if create is None and name == "vpp" and hasattr(module, "VppDriver"):
        try:
            return VppDataplaneDriver(module, options)
        except Exception as exc:
            raise DriverUnavailable(f"the vpp driver failed to initialise: {exc}") from exc
    if not callable(create):
        raise DriverUnavailable(f"the {name} driver ({module_name}) has no create_driver()")
    try:
        built = create(options)
    except Exception as exc:
        raise DriverUnavailable(f"the {name} driver failed to initialise: {exc}") from exc
    if not isinstance(built, DataplaneDriver):
        raise DriverUnavailable(f"the {name} driver's create_driver() returned {built!r}")
    return built


def build_drivers(names: Sequence[str], options: DriverOptions) -> list[DataplaneDriver]:
    drivers: list[DataplaneDriver] = []
    for name in names:
        if name == "recording":
            drivers.extend(recording_drivers())
        elif name in ("vpp", "gobgp"):
            driver_options = options
            if options.state_dir is not None:
                driver_options = DriverOptions(
                    options.vpp_api_socket,
                    options.gobgp_api,
                    options.allow_ipv6_frontends,
                    options.state_dir / name,
                )
            drivers.append(_import_driver(name, driver_options))
        else:
            raise DriverUnavailable(f"unknown driver {name!r}")
    seen: set[str] = set()
    for driver in drivers:
        if driver.name in seen:
            raise DriverUnavailable(f"two drivers named {driver.name!r}")
        seen.add(driver.name)
    return drivers
