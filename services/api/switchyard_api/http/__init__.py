"""The REST layer: routing, problem+json, preconditions, events."""
