"""Where peerguard keeps what it can rebuild: derived data worth keeping between runs."""

from __future__ import annotations

import os
from pathlib import Path


def cache_home(part: str) -> Path:
    """The cache directory for `part` (e.g. "report"): under `$PEERGUARD_CACHE_DIR`, else
    `$XDG_CACHE_HOME/peerguard` (`~/.cache` by default).

    Args:
        part: Which cache; each has its own directory.
    """
    root = os.environ.get("PEERGUARD_CACHE_DIR") or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "peerguard"
    return Path(root) / part
