"""Explain and plan: answers read from the compiled dataplane, never re-derived from intent.

flow.py evaluates one flow through what VPP would hold (cnat translation, then the ACLs of
every interface on the path, in VPP's feature order); plan.py computes what a write would
change on each node without storing it.
"""
