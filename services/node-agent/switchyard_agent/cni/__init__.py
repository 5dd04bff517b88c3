"""`switchyard-cni`: the CNI plugin that attaches pods to VPP through the local agent.
See docs/pod-attachment.md."""
