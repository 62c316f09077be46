"""A SHA-256 whose state can be saved and resumed in another process.

hashlib's objects cannot be serialised, so a digest kept in one web process is
lost to the next PATCH when another process answers it (gunicorn's workers
take turns), which then reads back and hashes the chunk it did not see.
OpenSSL's one-shot SHA256_Init/Update/Final API keeps its whole state in a
public, fixed-layout struct (openssl/sha.h, SHA256state_st) that can be saved
as bytes; it runs the same assembly as hashlib's sha256 (SHA-NI where the CPU
has it). Deprecated in OpenSSL 3 but exported; without it `available` is
False and callers fall back to hashing from the start.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import hashlib


class _Context(ctypes.Structure):
    # SHA256state_st: SHA_LONG h[8]; SHA_LONG Nl, Nh; SHA_LONG data[16]; unsigned int num, md_len.
    _fields_ = [
        ("h", ctypes.c_uint32 * 8),
        ("Nl", ctypes.c_uint32),
        ("Nh", ctypes.c_uint32),
        ("data", ctypes.c_uint32 * 16),
        ("num", ctypes.c_uint),
        ("md_len", ctypes.c_uint),
    ]


STATE_BYTES = ctypes.sizeof(_Context)


def _libcrypto() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("crypto")
    if name is None:
        return None
    try:
        library = ctypes.CDLL(name)
        functions = (library.SHA256_Init, library.SHA256_Update, library.SHA256_Final)
    except (OSError, AttributeError):
        return None
    context = ctypes.POINTER(_Context)
    for function, arguments in zip(
        functions,
        ([context], [context, ctypes.c_char_p, ctypes.c_size_t], [ctypes.c_char_p, context]),
        strict=True,
    ):
        function.argtypes = arguments
        function.restype = ctypes.c_int
    return library


_LIBRARY = _libcrypto()
available = _LIBRARY is not None


class RunningSha256:
    """sha256 of a growing byte string, resumable from `state()` (STATE_BYTES long).

    Without libcrypto's functions it is hashlib's sha256, and `state()` is None.
    """

    def __init__(self, state: bytes | None = None) -> None:
        self._hash: hashlib._Hash | None = None
        if _LIBRARY is None:
            if state is not None:
                raise ValueError("a saved state needs libcrypto's SHA256_* functions")
            self._hash = hashlib.sha256()
        elif state is None:
            self._context = _Context()
            _LIBRARY.SHA256_Init(ctypes.byref(self._context))
        elif len(state) == STATE_BYTES:
            self._context = _Context.from_buffer_copy(state)
        else:
            raise ValueError(f"a saved state is {STATE_BYTES} bytes, not {len(state)}")

    def update(self, data: bytes) -> None:
        if self._hash is not None:
            self._hash.update(data)
        else:
            # ctypes lets the GIL go for the call, as hashlib does for large updates.
            _LIBRARY.SHA256_Update(ctypes.byref(self._context), data, len(data))  # type: ignore[union-attr]

    def state(self) -> bytes | None:
        return None if self._hash is not None else bytes(self._context)

    def copy(self) -> RunningSha256:
        if self._hash is None:
            return RunningSha256(self.state())
        twin = RunningSha256()
        twin._hash = self._hash.copy()
        return twin

    def hexdigest(self) -> str:
        """The digest of everything so far; this object can go on growing."""
        if self._hash is not None:
            return self._hash.hexdigest()
        final = _Context.from_buffer_copy(bytes(self._context))
        out = ctypes.create_string_buffer(hashlib.sha256().digest_size)
        _LIBRARY.SHA256_Final(out, ctypes.byref(final))  # type: ignore[union-attr]
        return out.raw.hex()
