"""VPP API emulator: a unix-socket server speaking VPP's binary API as the
real vpp_papi client expects, built on vpp_papi's own serializer and the real
API definitions. Test support only, never a dataplane.

Run it with ``python -m tests.vppemu --socket PATH``; drive it from pytest
with :class:`tests.vppemu.harness.Emulator`.
"""
