"""Switchyard API service: intent store, REST API, compiler and distribution."""

__version__ = "0.1.0"
