import pytest


@pytest.fixture(autouse=True)
def _private_data_dir() -> None:
    """The real stack's worker reads the originals: these tests keep the hub's data directory."""
