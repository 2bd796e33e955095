"""The reference table of physical defaults: every row sourced, every range ordered."""

import re

import pytest

from pipelines.reference import reference_table
from pipelines.resources import CODE_ROOT

TABLE = reference_table()


@pytest.mark.parametrize("key", sorted(TABLE))
def test_each_default_has_a_source_and_an_ordered_range(key):
    row = TABLE[key]
    assert len(row.source) >= 20, f"{key}: no source worth the name"
    assert row.low <= row.value <= row.high, f"{key}: {row.value} outside {row.low}-{row.high}"
    assert row.unit


def test_every_default_the_code_reads_is_in_the_table():
    """A key named in draw(), bounds() or ref() anywhere in the code is a row of the table."""
    named = set()
    for path in [*CODE_ROOT.glob("pipelines/**/*.py"), *CODE_ROOT.glob("detectors/**/*.py")]:
        named |= set(re.findall(r'(?:draw\(rng, |bounds\(|ref\()"(\w+)"', path.read_text()))
    assert "cloud_hall_it_mw" in named
    assert named - set(TABLE) == set()
