"""The detect engine and its stages (features, scoring, regional context), without Prefect."""
