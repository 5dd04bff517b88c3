"""Deployment artifacts: Kubernetes manifests, the compose file, the Dockerfile."""
