"""Prefect wiring: flows, deployments, the server, task runners, retries, preflight checks."""
