"""Switchyard node agent: applies compiled configuration to VPP and GoBGP."""

__version__ = "0.1.0"
