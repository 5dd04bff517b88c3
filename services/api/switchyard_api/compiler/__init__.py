"""Pure compilation of intent into per-node dataplane configuration."""
