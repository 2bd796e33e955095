"""Where the shipped data is read from: a checkout's own data/, an install's package."""

import pipelines.resources as resources


def test_a_checkout_reads_its_own_data_whatever_package_is_installed(monkeypatch, tmp_path):
    """Another checkout's editable install (a git worktree's main tree) registers the data
    package elsewhere; this tree's code still reads this tree's reference table."""
    monkeypatch.setattr(resources, "files", lambda name: tmp_path)
    here = resources.data_path("reference_defaults.csv")
    assert here == resources.CODE_ROOT / "data" / "reference_defaults.csv"
    assert here.is_file()


def test_an_install_reads_the_data_package(monkeypatch, tmp_path):
    """Installed from a wheel, no checkout surrounds the code: the package is the data."""
    monkeypatch.setattr(resources, "files", lambda name: tmp_path)
    monkeypatch.setattr(resources, "CODE_ROOT", tmp_path / "site-packages")
    assert resources.data_path("models", "x") == tmp_path / "models" / "x"
