"""Where the agent serves switchyard-cni by default (no dependencies: the plugin imports it)."""

DEFAULT_SOCKET = "/run/switchyard/cni.sock"
DEFAULT_MEMIF_DIR = "/run/switchyard/memif"
