"""Raster tiles from a local MBTiles file, for a basemap with no internet (MBTiles 1.3 spec)."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from pipelines.errors import UsageError

# MBTiles 1.3: tile_data is PNG, JPEG or WebP for raster sets; `format` in metadata says which.
MEDIA = {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "webp": "image/webp"}


class MBTiles:
    """A read-only MBTiles file; tiles asked for in XYZ, stored in TMS (y counted from south)."""

    def __init__(self, path: Path) -> None:
        if not path.is_file():
            raise UsageError(f"{path}: basemap file not found (ui.basemap in flows.yaml)")
        self.path = path
        try:
            with closing(self._connect()) as db:
                meta = dict(db.execute("SELECT name, value FROM metadata").fetchall())
        except sqlite3.DatabaseError as exc:
            raise UsageError(f"{path}: not an MBTiles file ({exc})") from None
        fmt = str(meta.get("format", "png")).lower()
        if fmt not in MEDIA:
            raise UsageError(f"{path}: tiles in {fmt!r}; the map shows raster tiles only "
                             f"({', '.join(MEDIA)})")
        self.media_type = MEDIA[fmt]

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False)

    def tile(self, z: int, x: int, y: int) -> bytes | None:
        """The tile at zoom z, column x, row y (XYZ, y from the north), or None."""
        if not (0 <= z <= 30 and 0 <= x < 2**z and 0 <= y < 2**z):
            return None
        with closing(self._connect()) as db:
            row = db.execute("SELECT tile_data FROM tiles WHERE zoom_level=? AND tile_column=? "
                             "AND tile_row=?", (z, x, 2**z - 1 - y)).fetchone()
        return bytes(row[0]) if row else None
