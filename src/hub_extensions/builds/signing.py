"""Signatures over (user, image): the spawner accepts a built image only with a valid one."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import stat
from pathlib import Path

from .config import HubExtensionsBuilds

# Bumping this invalidates every signature issued before, e.g. after a change of encoding.
DOMAIN = "hub-extensions/build-signature/v1"
SIGNATURE_LENGTH = 64  # hex SHA-256


class SigningKeyError(RuntimeError):
    """The signing key cannot be loaded or created safely."""


def load_key(builds: HubExtensionsBuilds) -> bytes:
    """The configured key, else the key file's text; a missing file is made (0600, random)."""
    if builds.signing_key:
        return builds.signing_key.encode("utf-8")
    path = Path(builds.signing_key_file).absolute()
    try:
        # O_EXCL: if two processes start at once, only one writes; the other reads its key.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_key(path)
    except OSError as err:
        raise SigningKeyError(
            f"HubExtensionsBuilds.signing_key_file: cannot create {str(path)!r} ({err.strerror}). "
            "Make its directory writable, or set HubExtensionsBuilds.signing_key."
        ) from None
    # Stored as hex text so that it can be copied into HubExtensionsBuilds.signing_key unchanged.
    key = secrets.token_bytes(32).hex()
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(key + "\n")
    return key.encode("ascii")


def _read_key(path: Path) -> bytes:
    try:
        mode = path.stat().st_mode
        text = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as err:
        raise SigningKeyError(
            f"HubExtensionsBuilds.signing_key_file: cannot read {str(path)!r} ({err}). "
            "Fix its permissions, or delete it to have a new key made."
        ) from None
    if mode & (stat.S_IROTH | stat.S_IWOTH):
        raise SigningKeyError(
            f"HubExtensionsBuilds.signing_key_file: {str(path)!r} is readable or writable by every "
            "user, "
            f"so anyone could sign images. Run `chmod 600 {path}` (on Kubernetes, mount the "
            "secret with defaultMode 0400)."
        )
    if len(text) < 32:
        raise SigningKeyError(
            f"HubExtensionsBuilds.signing_key_file: {str(path)!r} holds fewer than 32 characters. "
            "Put a longer secret in it (e.g. `openssl rand -hex 32`), or delete it."
        )
    return text.encode(
        "utf-8"
    )  # the same bytes as that text given as HubExtensionsBuilds.signing_key


def _message(user: str, image: str) -> bytes:
    # A JSON array cannot be confused: ('a:b', 'c') and ('a', 'b:c') encode differently.
    return json.dumps([DOMAIN, user, image], ensure_ascii=True, separators=(",", ":")).encode()


def sign(key: bytes, user: str, image: str) -> str:
    """Hex HMAC-SHA256 of (user, image) under `key`."""
    if not key:
        raise ValueError("key: empty; load it with load_key()")
    return hmac.new(key, _message(user, image), hashlib.sha256).hexdigest()


def verify(key: bytes, user: str, image: str, signature: object) -> bool:
    """Whether `signature` is sign(key, user, image); False for any malformed input."""
    try:
        if not (isinstance(user, str) and isinstance(image, str) and isinstance(signature, str)):
            return False
        if len(signature) != SIGNATURE_LENGTH or not signature.isascii():
            return False
        expected = sign(key, user, image)
        return hmac.compare_digest(expected, signature.lower())
    except Exception:
        return False
