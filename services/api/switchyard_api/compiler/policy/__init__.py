"""Kubernetes NetworkPolicy (networking.k8s.io/v1) -> VPP ACLs. See placement.py for where
ACLs go and why, rules.py for the semantics, acl.py for sharing."""

from .compiler import PolicyCompiler

__all__ = ["PolicyCompiler"]
