"""Identifiers are data, never paths: checks on ids and on every path the tool writes.

A facility, scene or node id comes from a file someone else wrote. It may hold `/`, `..`,
control characters or thousands of characters; none of that may decide where a file lands.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from pipelines.errors import UnsafePathError

# The alert store's id columns are VARCHAR(200) (pipelines/alerts/store.py).
ID_MAX_CHARS = 200
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


def id_problem(value: str) -> str | None:
    """Why a string cannot serve as an identifier, or None if it can."""
    if len(value) > ID_MAX_CHARS:
        return f"is {len(value):,} characters long (at most {ID_MAX_CHARS})"
    if _CONTROL.search(value):
        return "contains control characters (a NUL, a newline, a tab or similar)"
    return None


def show_id(value: str, limit: int = 60) -> str:
    """An id as it may appear in a message: control characters escaped, long ones cut."""
    text = repr(value[:limit])
    return text + (f"... ({len(value):,} characters)" if len(value) > limit else "")


def safe_name(value: str) -> str:
    """A stable, collision-free file name for an id.

    Plain ids (letters, digits, `.`, `_`, `-`, starting with a letter or digit) are used as
    they are; any other id becomes `_<readable part>-<sha256 prefix>`: names of the first kind
    never start with `_`, so the two kinds cannot collide.
    """
    if _SAFE_NAME.fullmatch(value) and not value.endswith("."):
        return value
    readable = re.sub(r"[^A-Za-z0-9._-]+", "_", value).strip("._")[:40]
    return f"_{readable}-{hashlib.sha256(value.encode('utf-8')).hexdigest()[:16]}"


def inside(root: Path, *parts: str) -> Path:
    """Root / parts, resolved, refused unless it lies inside root (links followed)."""
    base = root.resolve()
    target = base.joinpath(*parts).resolve()
    if target != base and base not in target.parents:
        raise UnsafePathError(f"{target}: outside {base}; refused (an id or href tried to "
                              "leave the folder it belongs to)")
    return target
