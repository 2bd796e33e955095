"""A region bundle (SPEC input contract): reading it and checking it, record by record."""
