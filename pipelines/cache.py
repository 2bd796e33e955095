"""Content-addressed caches: file hashes, code fingerprints and stage results.

Every key is built from source URIs, file content hashes, code fingerprints and parameters,
never from in-memory data, so a key names exactly the inputs that made a result. A hit costs
one file read instead of a Prefect task run (tens of milliseconds each) plus the work.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import time
from functools import lru_cache
from pathlib import Path
from typing import Any

from pipelines.atomic import atomic_write_bytes
from pipelines.reference import REFERENCE_TABLE
from pipelines.resources import CODE_ROOT, WORKSPACE

DEFAULT_CACHE_DIR = WORKSPACE / ".computewatch" / "cache"


def cache_dir() -> Path:
    """Where stage results live: COMPUTEWATCH_CACHE_DIR, else .computewatch/cache."""
    return Path(os.environ.get("COMPUTEWATCH_CACHE_DIR") or DEFAULT_CACHE_DIR)


def key_of(*parts: Any) -> str:
    """A stable sha256 key of JSON-serialisable parts (dict order does not matter)."""
    blob = json.dumps(parts, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()


def file_sha256(path: Path) -> str:
    """sha256 of a file's content, memoised on (path, size, mtime) so re-runs do not re-read."""
    st = path.stat()
    return _file_sha256(str(path.resolve()), st.st_size, st.st_mtime_ns)


@lru_cache(maxsize=65536)
def _file_sha256(path: str, size: int, mtime_ns: int) -> str:
    memo = _memo_path(path, size, mtime_ns)
    if memo.is_file():
        return memo.read_text().strip()
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    value = digest.hexdigest()
    atomic_write_bytes(memo, value.encode())
    return value


def _memo_path(path: str, size: int, mtime_ns: int) -> Path:
    return cache_dir() / "file-sha256" / key_of(path, size, mtime_ns)[:40]


@lru_cache(maxsize=8)
def code_fingerprint(entries: tuple[str, ...]) -> str:
    """Hash of the named source files and folders plus the reference table (once a process)."""
    digest = hashlib.sha256()
    for entry in entries:
        path = CODE_ROOT / entry
        if not path.exists():  # a moved module must not leave stale caches behind silently
            raise FileNotFoundError(f"code fingerprint: {path} does not exist; update the "
                                    "list of code the cache keys depend on")
        for f in sorted([path] if path.is_file() else path.rglob("*.py")):
            digest.update(f.relative_to(CODE_ROOT).as_posix().encode())
            digest.update(f.read_bytes())
    digest.update(REFERENCE_TABLE.read_bytes())
    return digest.hexdigest()[:12]


class StageCache:
    """Results of pipeline stages stored under their keys (pickles the project wrote itself).

    The folder belongs to the project like its code; results are written atomically, so a
    run killed midway leaves either a whole entry or none.
    """

    def __init__(self, root: Path | None = None) -> None:
        self.root = root or cache_dir()

    def _path(self, stage: str, key: str) -> Path:
        return self.root / stage / f"{key}.pkl"

    def get(self, stage: str, key: str) -> Any | None:
        """The stored result, or None when absent or unreadable (it is then recomputed).

        A hit refreshes the entry's modification time: prune() removes what goes unused.
        """
        path = self._path(stage, key)
        if not path.is_file():
            return None
        try:
            value = pickle.loads(path.read_bytes())
            os.utime(path)
            return value
        except (pickle.UnpicklingError, EOFError, AttributeError, ImportError, ValueError):
            path.unlink(missing_ok=True)
            return None

    def put(self, stage: str, key: str, value: Any) -> None:
        """Store a result under its key."""
        atomic_write_bytes(self._path(stage, key), pickle.dumps(value, protocol=5))

    def prune(self, max_age_days: float = 30.0, every_hours: float = 24.0) -> int:
        """Delete entries unused for max_age_days; runs at most once every every_hours.

        Returns how many files went. Scheduled runs call it, so the cache does not grow
        without bound as scenes and footprints change.
        """
        stamp = self.root / ".pruned"
        now = time.time()
        if stamp.is_file() and now - stamp.stat().st_mtime < every_hours * 3600:
            return 0
        removed = 0
        for path in self.root.rglob("*"):
            if path.is_file() and path != stamp and \
                    now - path.stat().st_mtime > max_age_days * 86400:
                path.unlink(missing_ok=True)
                removed += 1
        stamp.parent.mkdir(parents=True, exist_ok=True)
        stamp.touch()
        return removed
