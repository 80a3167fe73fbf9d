"""The tidy table's cache: what each log adds to the report's table, kept until the log changes.

A rerun of `peerguard report` reads only the logs that are new or changed since the last run. Each
log's part of the table is kept in a file of its own under a key of the log's location, its size,
its change marks (the modification time; on an object store also the ETag or generation) and the
version of the rows (`load.ROWS_VERSION`, with peerguard's and Inspect's versions). A log that is
gone is no longer listed, so its rows drop out. An entry that is missing, unreadable, corrupt or
under another key is ignored: the log is read again and the entry written anew. The cache never
makes the report fail.

Where: `report` under `$PEERGUARD_CACHE_DIR`, else under the user's cache directory
(`$XDG_CACHE_HOME`, by default `~/.cache`) and `peerguard`, one file per log named by a hash of its location (an absolute
path or a URL). Not beside the logs: a log directory may be read-only, shared, or in an object
store (where every entry would cost requests and write access), and it belongs to Inspect's
eval-set and `peerguard run`, which resume from what they find there. The entries are pickles, so
the directory must be the user's own, as a home directory is.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from peerguard.cache_home import cache_home
from peerguard.logstore import LogDir, filesystem, scheme


@dataclass(frozen=True)
class Stamp:
    """What tells one version of a file from another."""

    size: int
    marks: tuple[tuple[str, str], ...]
    """The change marks fsspec gives (`CHANGE_MARKS`), as (name, value)."""


CHANGE_MARKS = ("mtime", "LastModified", "last_modified", "updated", "ETag", "etag", "generation")
"""The fields of fsspec's file info that change when a file is rewritten: local files and Azure
give a modification time, S3 its LastModified and ETag, Google Cloud Storage its updated time and
generation."""


def directory() -> Path:
    """Where the cache lives: `$PEERGUARD_CACHE_DIR/report`, else `$XDG_CACHE_HOME/peerguard/report` (`~/.cache` by default)."""
    return cache_home("report")


def _stamp(info: dict[str, Any]) -> Stamp | None:
    marks = tuple((mark, str(info[mark])) for mark in CHANGE_MARKS if info.get(mark) is not None)
    if not marks or not isinstance(info.get("size"), int):
        return None  # nothing to tell a rewritten file by: never trusted
    return Stamp(info["size"], marks)


def stamps(location: LogDir) -> dict[str, Stamp]:
    """The size and change marks of every file under a log directory, or of the one log file given,
    from one listing; by location (a local file's absolute path, a remote file's URL).

    A store that can't be listed gives none, and its logs are read without the cache.

    Args:
        location: A log directory or .eval file: a local path or a URL.
    """
    try:
        fs, path = filesystem(location)
        infos = fs.find(path, detail=True) if fs.isdir(path) else {path: fs.info(path)}
    except Exception:  # each store raises its own kinds; reading the logs will say what is wrong
        return {}
    prefix = f"{scheme(location)}://" if scheme(location) else ""
    found = {prefix + name: _stamp(info) for name, info in infos.items()}
    return {name: stamp for name, stamp in found.items() if stamp is not None}


class TableCache:
    """Values kept per log location, each valid for one stamp of the log and one version of the rows."""

    def __init__(self, version: str, root: Path | None = None) -> None:
        """
        Args:
            version: What else the values depend on (the version of the rows and of the code reading them).
            root: The cache directory (default: `directory()`).
        """
        self.version = version
        self.root = root or directory()

    def _entry(self, location: str) -> Path:
        return self.root / f"{hashlib.sha256(location.encode()).hexdigest()[:40]}.pickle"

    def get(self, location: str, stamp: Stamp) -> Any:
        """The value kept for the log as it is now, or None.

        Args:
            location: The log's absolute path or URL.
            stamp: The log's size and change marks now.
        """
        try:
            with self._entry(location).open("rb") as file:
                if pickle.load(file) != (self.version, location, stamp):
                    return None  # another version of the log or of the rows: read it again
                return pickle.load(file)
        except Exception:  # missing, unreadable or corrupt: read the log again
            return None

    def put(self, location: str, stamp: Stamp, value: Any) -> None:
        """Keep a log's value; a cache that can't be written is left as it is.

        Args:
            location: The log's absolute path or URL.
            stamp: The log's size and change marks when it was read.
            value: What the log gave.
        """
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            file = tempfile.NamedTemporaryFile("wb", dir=self.root, suffix=".tmp", delete=False)
        except OSError:
            return
        try:
            with file:
                pickle.dump((self.version, location, stamp), file, protocol=pickle.HIGHEST_PROTOCOL)
                pickle.dump(value, file, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(file.name, self._entry(location))  # whole or not at all, also with two reports at once
        except OSError:
            Path(file.name).unlink(missing_ok=True)
