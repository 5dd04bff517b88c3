"""Generated Python stubs for package switchyard.v1.

Do not edit the *_pb2*.py / *_pb2*.pyi files: change the .proto files next to them and run
`python scripts/gen_protos.py` (tests/test_proto_drift.py fails when they are stale).
"""
