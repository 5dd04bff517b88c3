"""Pod attachment: the CNI plugin's requests, served by the agent over a unix socket, turned
into VPP interfaces (tap or memif) through the reconciler, recorded in the state directory and
reported to the API. See docs/pod-attachment.md."""
