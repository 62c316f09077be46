"""The integration tests drive the real stack; its fixtures live in tests/conftest.py."""

import pytest

pytestmark = pytest.mark.integration
