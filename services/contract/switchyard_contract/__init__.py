"""The contract between Switchyard's programs: typed NodeConfig values and their protobuf codec."""
