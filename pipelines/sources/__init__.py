"""Connectors to real sources that write region bundles (SPEC, input contract v1)."""
