"""Python stubs of GoBGP 3.10's gRPC API (proto package apipb), generated from the vendored
.proto files by scripts/gen_protos.py; see README.md."""
