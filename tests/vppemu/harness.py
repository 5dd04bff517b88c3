"""Pytest-friendly control of an emulator subprocess.

The emulator runs in its own process because vpp_papi's type registration is
process-global (first wins): the client under test gets a clean slate.

    emu = Emulator(tmp_path).start()
    vpp = VPPApiClient(apidir=str(emu.apidir), server_address=str(emu.socket_path))
    ...
    emu.kill()      # SIGKILL: what a VPP crash looks like from outside
    emu.restart()   # a fresh, EMPTY VPP on the same socket path
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import Any

from .apidir import default_api_dir

REPO_ROOT = Path(__file__).resolve().parents[2]
MAX_UNIX_PATH = 100  # sun_path is 108 bytes; keep a margin


class EmulatorError(RuntimeError):
    pass


class Emulator:
    def __init__(
        self,
        tmp_path: Path | str,
        apidir: Path | str | None = None,
        drop_messages: Iterable[str] = (),
        corrupt_crcs: Iterable[str] = (),
        startup_timeout: float = 20.0,
    ) -> None:
        base = Path(tmp_path)
        if len(str(base / "api.sock.ctl")) > MAX_UNIX_PATH:
            base = Path(tempfile.mkdtemp(prefix="vppemu-"))
        self.socket_path = base / "api.sock"
        self.control_path = base / "api.sock.ctl"
        self.log_path = Path(tmp_path) / "vppemu.log"
        self.apidir = Path(apidir) if apidir is not None else default_api_dir()
        self.drop_messages = tuple(drop_messages)
        self.corrupt_crcs = tuple(corrupt_crcs)
        self.startup_timeout = startup_timeout
        self.process: subprocess.Popen[bytes] | None = None

    # -- process lifecycle -------------------------------------------------

    def command(self) -> list[str]:
        cmd = [
            sys.executable,
            "-m",
            "tests.vppemu",
            "--socket",
            str(self.socket_path),
            "--control",
            str(self.control_path),
            "--apidir",
            str(self.apidir),
        ]
        for name in self.drop_messages:
            cmd += ["--drop-message", name]
        for name in self.corrupt_crcs:
            cmd += ["--corrupt-crc", name]
        return cmd

    def start(self) -> Emulator:
        if self.running:
            raise EmulatorError("emulator already running")
        for path in (self.socket_path, self.control_path):
            path.unlink(missing_ok=True)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p
        )
        log = self.log_path.open("ab")
        try:
            self.process = subprocess.Popen(
                self.command(),
                cwd=REPO_ROOT,
                env=env,
                stdout=log,
                stderr=log,
                stdin=subprocess.DEVNULL,
            )
        finally:
            log.close()
        deadline = time.monotonic() + self.startup_timeout
        while True:
            if self.process.poll() is not None:
                raise EmulatorError(f"emulator exited at start-up:\n{self.log()}")
            try:
                if self._call("ping") == "pong" and self.socket_path.exists():
                    return self
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.kill()
                raise EmulatorError(f"emulator did not start:\n{self.log()}")
            time.sleep(0.02)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL, like a VPP crash: sockets drop and the socket file stays."""
        if self.process is not None:
            if self.process.poll() is None:
                self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)
            self.process = None

    def stop(self) -> None:
        if self.process is not None:
            if self.process.poll() is None:
                self.process.terminate()
                try:
                    self.process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait(timeout=5)
            self.process = None

    def restart(self) -> Emulator:
        """Kill (if running) and start again, empty, on the same socket path."""
        self.kill()
        return self.start()

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- control channel ---------------------------------------------------

    def _call(self, cmd: str, **args: Any) -> Any:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(10)
            sock.connect(str(self.control_path))
            sock.sendall(json.dumps({"cmd": cmd, **args}).encode() + b"\n")
            data = b""
            while not data.endswith(b"\n"):
                chunk = sock.recv(1 << 20)
                if not chunk:
                    raise EmulatorError(f"control channel closed during {cmd}")
                data += chunk
        response = json.loads(data)
        if not response.get("ok"):
            raise EmulatorError(f"{cmd}: {response.get('error')}")
        return response.get("result")

    def call_counts(self) -> dict[str, int]:
        counts: dict[str, int] = self._call("call_counts")
        return counts

    def reset_counts(self) -> None:
        self._call("reset_counts")

    def inject_failure(self, message_name: str, retval: int = -1, times: int = 1) -> None:
        """The next `times` calls of message_name reply retval and change nothing."""
        self._call("inject_failure", message=message_name, retval=retval, times=times)

    def add_interface(self, name: str, dev_type: str = "virtual") -> int:
        index: int = self._call("add_interface", name=name, dev_type=dev_type)
        return index

    def delete_interface(self, sw_if_index: int) -> None:
        self._call("delete_interface", sw_if_index=sw_if_index)

    def state(self) -> dict[str, Any]:
        """JSON-able snapshot of all VPP-like state, including what the dumps
        hide (e.g. cnat flow_hash_config), plus crashes/clients counters."""
        snapshot: dict[str, Any] = self._call("state")
        return snapshot

    def unimplemented(self) -> list[str]:
        names: list[str] = self._call("unimplemented")
        return names

    def crash(self, reason: str = "crash requested by the test") -> None:
        """A VPP restart without a process restart: clients drop, state empties."""
        self._call("crash", reason=reason)

    def reset(self, drop_connections: bool = True) -> None:
        """Empty state, counts, injected failures and unimplemented records."""
        self._call("reset", drop_connections=drop_connections)
