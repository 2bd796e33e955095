"""The shipped data, installed as the `computewatch_data` package (see pipelines/resources.py)."""
