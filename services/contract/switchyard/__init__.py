"""Switchyard's protobuf contracts (see proto/switchyard/v1/*.proto)."""
