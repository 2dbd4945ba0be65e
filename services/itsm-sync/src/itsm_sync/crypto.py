"""AES-GCM encryption of credentials at rest, bound to the row they belong to."""

from __future__ import annotations

import os
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_NONCE_BYTES: Final = 12


class DecryptionError(ValueError):
    """The ciphertext was tampered with, moved to another row, or made with another key."""


class CredentialCipher:
    """Encrypt and decrypt small secrets; the associated data names the owning row."""

    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise ValueError("the encryption key must be 32 bytes (AES-256)")
        self._aead = AESGCM(key)

    def encrypt(self, plaintext: bytes, associated_data: bytes) -> bytes:
        """`nonce || ciphertext+tag`, with a fresh random nonce per call."""
        nonce = os.urandom(_NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, plaintext, associated_data)

    def decrypt(self, blob: bytes, associated_data: bytes) -> bytes:
        """The plaintext, or `DecryptionError` if anything does not match."""
        if len(blob) <= _NONCE_BYTES:
            raise DecryptionError("the ciphertext is too short")
        try:
            return self._aead.decrypt(blob[:_NONCE_BYTES], blob[_NONCE_BYTES:], associated_data)
        except InvalidTag:
            raise DecryptionError("the ciphertext does not decrypt for this row") from None


def credential_aad(tenant_id: str, connection_id: str, connection_type: str) -> bytes:
    """Associated data: the composite key, so a ciphertext cannot be copied to another row."""
    return f"itsm-sync/credentials/v1|{tenant_id}|{connection_id}|{connection_type}".encode()
