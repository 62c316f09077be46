"""The resumable sha256 behind tus uploads: saved, resumed elsewhere, it is hashlib's."""

from __future__ import annotations

import hashlib
import os

import pytest

from capture_api.tus import running_sha256
from capture_api.tus.running_sha256 import STATE_BYTES, RunningSha256


def test_a_state_resumed_from_bytes_gives_hashlibs_digest() -> None:
    assert running_sha256.available  # libcrypto's SHA256_* are what makes the state savable
    data = os.urandom(3 * 1024 * 1024 + 77)
    digest = RunningSha256()
    # Cuts off any 64-byte block boundary: the saved state holds the partial block too.
    for start, end in ((0, 13), (13, 1_000_003), (1_000_003, len(data))):
        digest.update(data[start:end])
        state = digest.state()
        assert state is not None and len(state) == STATE_BYTES
        digest = RunningSha256(state)
        assert digest.hexdigest() == hashlib.sha256(data[:end]).hexdigest()
    assert RunningSha256().hexdigest() == hashlib.sha256().hexdigest()


def test_a_copy_grows_on_its_own() -> None:
    digest = RunningSha256()
    digest.update(b"committed")
    twin = digest.copy()
    twin.update(b" and more")
    assert digest.hexdigest() == hashlib.sha256(b"committed").hexdigest()
    assert twin.hexdigest() == hashlib.sha256(b"committed and more").hexdigest()


def test_a_state_of_the_wrong_size_is_refused() -> None:
    with pytest.raises(ValueError, match="bytes"):
        RunningSha256(b"\0" * (STATE_BYTES - 1))


def test_without_libcrypto_it_is_hashlibs_and_saves_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(running_sha256, "_LIBRARY", None)
    digest = RunningSha256()
    digest.update(b"abc")
    assert digest.state() is None
    assert digest.copy().hexdigest() == hashlib.sha256(b"abc").hexdigest()
    with pytest.raises(ValueError):
        RunningSha256(b"\0" * STATE_BYTES)
