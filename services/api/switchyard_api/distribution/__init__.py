"""Distribution of NodeConfig to node agents over gRPC (proto/switchyard/v1)."""
