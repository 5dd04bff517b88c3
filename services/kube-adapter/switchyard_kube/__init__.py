"""switchyard-kube: mirrors a Kubernetes cluster's networking objects into Switchyard."""
