"""Schemas and validation rules of every intent kind."""
