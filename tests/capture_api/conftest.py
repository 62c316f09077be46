import pytest


@pytest.fixture(autouse=True)
def _private_data_dir(private_data_dir: object) -> None:
    pass
