"""Persistence of intent: objects, the global revision and the change log."""
