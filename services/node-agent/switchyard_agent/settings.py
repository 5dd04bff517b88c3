"""Agent settings: flags override SWITCHYARD_* environment variables, which override defaults."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DRIVER_NAMES = ("vpp", "gobgp", "recording")


def parse_host_port(value: str) -> tuple[str, int]:
    """Parse HOST:PORT (IPv6 as [::1]:9100) into (host, port)."""
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"{value!r} is not HOST:PORT")
    return host.strip("[]"), int(port)


def parse_api_target(value: str) -> str:
    """One controller address: HOST:PORT, or a gRPC DNS target `dns:///NAME:PORT` or
    `dns://SERVER[:PORT]/NAME:PORT` (NAME may resolve to several replicas)."""
    if value.startswith("dns:"):
        rest = value.removeprefix("dns:")
        if rest.startswith("//"):
            _, sep, rest = rest[2:].partition("/")
            if not sep:
                raise ValueError(f"{value!r}: expected dns://[SERVER]/NAME:PORT")
        parse_host_port(rest)
        return value
    parse_host_port(value)
    return value


class AgentSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SWITCHYARD_", extra="ignore")

    # The API replicas' gRPC distribution endpoints: a comma list of HOST:PORT (or
    # dns:///NAME:PORT); the agent uses one at a time and fails over to the next.
    api: str
    # This node's name (a `node` resource of the API).
    node: str = Field(min_length=1)
    # The per-node bearer token; may be left out only when a client certificate (mTLS) is
    # configured. `token_file` reads it from a file instead (keeps it out of `ps`).
    token: SecretStr | None = None
    token_file: Path | None = None
    # TLS: a CA bundle enables TLS; a client certificate and key add mTLS.
    tls_ca: Path | None = None
    tls_cert: Path | None = None
    tls_key: Path | None = None
    state_dir: Path = Path("/var/lib/switchyard-agent")
    # HOST:PORT of /healthz and /metrics, or "off".
    metrics_listen: str = "127.0.0.1:9100"
    # Comma list of drivers: vpp, gobgp, recording (in-memory, for tests and demos).
    drivers: str = "vpp,gobgp"
    vpp_api_socket: str = "/run/vpp/api.sock"
    gobgp_api: str = "127.0.0.1:50051"
    allow_ipv6_frontends: bool = False
    # The unix socket switchyard-cni talks to (created 0600), or "off".
    cni_socket: str = "off"
    # Reconnect backoff (controller and dataplanes): exponential from min up to max seconds,
    # with full jitter.
    reconnect_backoff_min: float = Field(default=0.5, gt=0)
    reconnect_backoff_max: float = Field(default=30.0, gt=0)
    # Seconds between periodic Status messages (one is also sent on every change).
    status_interval: float = Field(default=10.0, gt=0)
    # How often dataplane daemons are checked for a restart or a lost connection.
    probe_interval: float = Field(default=2.0, gt=0)
    log_level: str = "info"
    log_format: Literal["text", "json"] = "text"

    @field_validator("api", mode="before")
    @classmethod
    def _api(cls, value: Any) -> Any:
        items = value if isinstance(value, list | tuple) else [value]
        if not all(isinstance(item, str) for item in items):
            return value  # the str type reports it
        targets = [t.strip() for item in items for t in item.split(",") if t.strip()]
        if not targets:
            raise ValueError("no address given")
        for target in targets:
            parse_api_target(target)
        return ",".join(dict.fromkeys(targets))

    @field_validator("metrics_listen")
    @classmethod
    def _metrics_listen(cls, value: str) -> str:
        if value != "off":
            parse_host_port(value)
        return value

    @field_validator("drivers")
    @classmethod
    def _drivers(cls, value: str) -> str:
        names = [n.strip() for n in value.split(",") if n.strip()]
        if not names:
            raise ValueError("no driver given")
        unknown = sorted(set(names) - set(DRIVER_NAMES))
        if unknown:
            raise ValueError(f"unknown driver(s) {', '.join(unknown)}; known: {DRIVER_NAMES}")
        if "recording" in names and len(names) > 1:
            raise ValueError("the recording driver replaces vpp and gobgp: use it alone")
        return ",".join(names)

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        if value.lower() not in ("debug", "info", "warning", "error", "critical"):
            raise ValueError(f"{value!r} is not a log level")
        return value.lower()

    @model_validator(mode="after")
    def _consistent(self) -> AgentSettings:
        if self.reconnect_backoff_max < self.reconnect_backoff_min:
            raise ValueError("reconnect_backoff_max is smaller than reconnect_backoff_min")
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("tls_cert and tls_key go together")
        if self.tls_cert is not None and self.tls_ca is None:
            raise ValueError("a client certificate needs tls_ca (which enables TLS)")
        if self.token is not None and not self.token.get_secret_value():
            self.token = None  # an empty SWITCHYARD_TOKEN is no token
        if self.token is not None and self.token_file is not None:
            raise ValueError("give token or token_file, not both")
        if self.token is None and self.token_file is None and self.tls_cert is None:
            raise ValueError("a token (or token_file, or an mTLS client certificate) is required")
        return self

    @property
    def api_targets(self) -> tuple[str, ...]:
        return tuple(self.api.split(","))

    @property
    def driver_names(self) -> tuple[str, ...]:
        return tuple(self.drivers.split(","))

    @property
    def metrics_address(self) -> tuple[str, int] | None:
        return None if self.metrics_listen == "off" else parse_host_port(self.metrics_listen)

    def bearer_token(self) -> str | None:
        """The token, read from token_file when given (stripped of surrounding whitespace)."""
        if self.token_file is not None:
            return self.token_file.read_text().strip() or None
        return self.token.get_secret_value() if self.token is not None else None
