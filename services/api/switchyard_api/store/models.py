"""SQLAlchemy tables. The schema itself is created only by the Alembic migrations."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, MetaData, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(table_name)s_%(column_0_name)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


class StoredObject(Base):
    """Every intent object of every kind, keyed by (kind, namespace, name)."""

    __tablename__ = "objects"

    kind: Mapped[str] = mapped_column(String(64), primary_key=True)
    namespace: Mapped[str] = mapped_column(String(63), primary_key=True)  # "" if cluster-scoped
    name: Mapped[str] = mapped_column(String(253), primary_key=True)
    uid: Mapped[str] = mapped_column(String(36))
    resource_version: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[str] = mapped_column(String(32))
    labels: Mapped[dict[str, str]] = mapped_column(JSON)
    annotations: Mapped[dict[str, str]] = mapped_column(JSON)
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


class ChangeLogEntry(Base):
    """One object changed by a write; every object a write changed shares its revision."""

    __tablename__ = "change_log"

    revision: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(64), primary_key=True)
    namespace: Mapped[str] = mapped_column(String(63), primary_key=True)
    name: Mapped[str] = mapped_column(String(253), primary_key=True)
    operation: Mapped[str] = mapped_column(String(8))  # ADDED | MODIFIED | DELETED
    committed_at: Mapped[str] = mapped_column(String(32))


class Claim(Base):
    """Uniqueness that spans objects: a frontend address+port+protocol, a nodePort, a VIP."""

    __tablename__ = "claims"

    claim: Mapped[str] = mapped_column(String(128), primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))
    namespace: Mapped[str] = mapped_column(String(63))
    name: Mapped[str] = mapped_column(String(253))

    __table_args__ = (Index("ix_claims_owner", "kind", "namespace", "name"),)


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[str] = mapped_column(String(32))
    # Set for role "node": the only node an agent with this token may connect as.
    node_name: Mapped[str | None] = mapped_column(String(253), nullable=True)


class NodeReport(Base):
    """Every ACK and NACK an agent sent (pruned to the newest per node)."""

    __tablename__ = "node_reports"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    node: Mapped[str] = mapped_column(String(253))
    revision: Mapped[int] = mapped_column(BigInteger)
    outcome: Mapped[str] = mapped_column(String(8))  # ACK | NACK
    errors: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    replica: Mapped[str] = mapped_column(String(64))
    reported_at: Mapped[str] = mapped_column(String(32))

    __table_args__ = (Index("ix_node_reports_node", "node", "id"),)


class RevisionCounter(Base):
    """SQLite's stand-in for the PostgreSQL sequence `revision_seq` (one row)."""

    __tablename__ = "revision_counter"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)


class StoreMeta(Base):
    """Small facts about the store, e.g. the revision up to which the change log was compacted."""

    __tablename__ = "store_meta"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
