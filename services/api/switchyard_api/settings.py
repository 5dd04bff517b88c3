"""Service settings: flags override SWITCHYARD_* environment variables, which override defaults."""

from __future__ import annotations

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from .cluster_ips import parse_service_cidrs


def parse_listen(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"{value!r} is not HOST:PORT")
    return host.strip("[]") or "0.0.0.0", int(port)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SWITCHYARD_", extra="ignore")

    database_url: str = "sqlite:///./switchyard.db"
    http_listen: str = "127.0.0.1:8080"
    grpc_listen: str = "127.0.0.1:9090"
    admin_token: str | None = None
    node_port_range: str = "30000-32767"
    # ClusterIPs are allocated from these: one CIDR, or one IPv4 and one IPv6 (comma-separated).
    service_cidrs: str = "10.96.0.0/12"
    max_body_bytes: int = Field(default=4 * 1024 * 1024, ge=1024)
    # How many revisions of the change log /v1/events can replay.
    event_retention: int = Field(default=100_000, ge=1)
    log_level: str = "info"
    # gRPC TLS: server certificate and key; with a client CA, agents must present a client
    # certificate signed by it (mTLS).
    grpc_tls_cert: str | None = None
    grpc_tls_key: str | None = None
    grpc_tls_client_ca: str | None = None
    # Whether `serve` runs the distribution (gRPC) server.
    distribution: bool = True
    catch_up_interval: float = Field(default=1.0, gt=0)
    # LISTEN for other replicas' commits (PostgreSQL). Off, changes still arrive through the
    # periodic catch-up read, only later.
    notify_listen: bool = True
    replica_id: str | None = None

    @field_validator("http_listen", "grpc_listen")
    @classmethod
    def _listen(cls, value: str) -> str:
        parse_listen(value)
        return value

    @field_validator("node_port_range")
    @classmethod
    def _range(cls, value: str) -> str:
        first, sep, last = value.partition("-")
        if not sep or not first.isdigit() or not last.isdigit():
            raise ValueError(f"{value!r} is not FIRST-LAST")
        if not 1 <= int(first) <= int(last) <= 65535:
            raise ValueError(f"{value!r} is not a port range inside 1-65535")
        return value

    @field_validator("service_cidrs")
    @classmethod
    def _service_cidrs(cls, value: str) -> str:
        parse_service_cidrs(value)
        return value

    @property
    def node_ports(self) -> tuple[int, int]:
        first, _, last = self.node_port_range.partition("-")
        return int(first), int(last)
