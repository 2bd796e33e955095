import pytest

from pipelines.alerts.store import open_store


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    """The same tests against the embedded SQLite store and a real PostgreSQL server."""
    if request.param == "sqlite":
        return open_store(f"sqlite:///{tmp_path / 'alerts.sqlite'}")
    engine = open_store(request.getfixturevalue("postgres_url"))
    from pipelines.alerts.store import metadata

    with engine.begin() as conn:  # a clean queue for every test
        for table in reversed(metadata.sorted_tables):
            if table.name != "schema_version":
                conn.execute(table.delete())
    return engine
