"""Writers of the candidate export (SPEC output contract v1)."""
