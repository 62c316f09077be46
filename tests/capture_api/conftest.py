import pytest


@pytest.fixture(autouse=True)
def _private_data_dir(private_data_dir: object) -> None:
    pass


from tests.browser import chromium_fixture  # noqa: E402, F401  (the fixture `chromium`)
