"""Image names as BinderHub makes them, so both build the same name for the same commit.

BinderHub (binderhub/builder.py, `BuildHandler.get` and `_safe_build_slug`) names an image
`{image_prefix}{escaped slug}-{sha256(slug)[:6]}:{resolved ref}`, with the escaped slug cut so
that the name before the tag stays within 255 characters, then `_` replaced by `-` and all of it
lowercased. BinderHub's `image_prefix` includes the registry; here the registry is separate, and
`image_name(prefix, ...)` with `registry` equals BinderHub's with `image_prefix=registry/prefix`.
"""

from __future__ import annotations

import hashlib
import string

from .providers import is_full_sha

SAFE_CHARS = frozenset(string.ascii_letters + string.digits)
ESCAPE_CHAR = "-"
HASH_LENGTH = 6
NAME_LIMIT = 255  # Docker's limit on the name before the tag


def escape(text: str) -> str:
    """Each character outside [A-Za-z0-9] as '-' plus the upper-case hex of its UTF-8 bytes.

    The same transformation as `escapism.escape(text, safe=SAFE_CHARS, escape_char="-")`.
    """
    out = []
    for char in text:
        if char in SAFE_CHARS:
            out.append(char)
        else:
            out.extend(f"{ESCAPE_CHAR}{byte:X}" for byte in char.encode("utf-8"))
    return "".join(out)


def safe_slug(build_slug: str, limit: int, hash_length: int = HASH_LENGTH) -> str:
    """The escaped slug cut to fit `limit`, plus a hash of the whole slug, lowercased."""
    digest = hashlib.sha256(build_slug.encode("utf-8")).hexdigest()
    name = escape(build_slug)[: limit - hash_length - 1]
    return f"{name}-{digest[:hash_length]}".lower()


def image_name(prefix: str, build_slug: str, resolved_sha: str, registry: str = "") -> str:
    """`[registry/]prefix + safe slug : sha`, BinderHub's image name for this slug and commit."""
    if not is_full_sha(resolved_sha):
        raise ValueError(f"resolved_sha: {resolved_sha!r} is not a full commit SHA")
    full_prefix = f"{registry.rstrip('/')}/{prefix}" if registry else prefix
    slug = safe_slug(build_slug, limit=NAME_LIMIT - len(full_prefix))
    return f"{full_prefix}{slug}:{resolved_sha}".replace("_", "-").lower()
