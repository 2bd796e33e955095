"""The web triage app: the alert queue on a map, evidence, decisions, sign-in and roles."""
