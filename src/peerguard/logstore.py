"""Log directories that are local paths or object-store URLs (`s3://`, `gs://`, `az://`, ...).

Inspect writes and reads logs anywhere fsspec reaches; peerguard's own bookkeeping in a log
directory (the run marker, the write probe) goes through the same fsspec file systems, and a
store that can't be used is a one-line error before anything runs.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlparse

import fsspec
from fsspec.core import url_to_fs

LogDir = Path | str
"""A local directory (a Path) or a URL (a str with a scheme other than file)."""

_GOOGLE = "GOOGLE_APPLICATION_CREDENTIALS"
_AZURE = "AZURE_STORAGE_ACCOUNT_NAME (with AZURE_STORAGE_ACCOUNT_KEY, AZURE_STORAGE_SAS_TOKEN or AZURE_STORAGE_CONNECTION_STRING)"
CREDENTIALS = {"s3": "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE)", "gs": _GOOGLE, "gcs": _GOOGLE, "az": _AZURE, "abfs": _AZURE}
"""The stores whose credentials peerguard checks up front, and the variables that provide them."""


class LogStoreError(ValueError):
    """A log location that can't be used; one line for the user."""


def scheme(location: LogDir) -> str:
    """The URL scheme of a remote location, or "" for a local path (file:// URLs count as local)."""
    if isinstance(location, Path):
        return ""
    found = urlparse(location).scheme
    return "" if found in ("", "file") or len(found) == 1 else found  # one letter: a Windows drive


def log_dir(text: str) -> LogDir:
    """What the user wrote for a log directory: a Path, or the URL as given (without a trailing /).

    Args:
        text: A path or URL from the command line.
    """
    if not scheme(text):
        return Path(text.removeprefix("file://"))
    return text.rstrip("/")


def join(location: LogDir, name: str) -> LogDir:
    """`name` inside a log directory."""
    return location / name if isinstance(location, Path) else f"{location}/{name}"


def first_line(error: BaseException) -> str:
    """An exception as one line for the user (stores raise long, multi-line messages)."""
    return str(error).splitlines()[0] if str(error) else type(error).__name__


def filesystem(location: LogDir) -> tuple[fsspec.AbstractFileSystem, str]:
    """The fsspec file system of a local path or URL, and the path on it.

    Args:
        location: A path or URL.
    """
    try:
        # no listings cache, as Inspect's own: the marker and the logs must be read as they are now;
        # no cached instance: its endpoint and keys would be those of the environment it was made in
        fs, path = url_to_fs(str(location), use_listings_cache=False, skip_instance_cache=True)
    except ImportError as error:
        raise LogStoreError(f"cannot use {location}: {error} (pip install it beside peerguard)") from None
    except ValueError as error:
        raise LogStoreError(f"{location}: {error}") from None
    return fs, str(path)


def check_credentials(location: LogDir) -> None:
    """Fail early, naming the variables, when the store finds no credentials at all.

    Args:
        location: A log directory or URL.
    """
    store = scheme(location)
    if store not in CREDENTIALS or _has_credentials(store):
        return
    raise LogStoreError(f"no credentials for {location}: set {CREDENTIALS[store]}")


def _has_credentials(store: str) -> bool:
    if store == "s3":
        import botocore.session

        return botocore.session.get_session().get_credentials() is not None
    if store in ("gs", "gcs"):
        try:
            import google.auth
            import google.auth.exceptions
        except ImportError:
            return True  # gcsfs (which brings google-auth) is missing: filesystem() says so
        try:
            google.auth.default()
        except google.auth.exceptions.DefaultCredentialsError:
            return False
        return True
    return any(os.environ.get(name) for name in ("AZURE_STORAGE_ACCOUNT_NAME", "AZURE_STORAGE_CONNECTION_STRING"))


def prepare(location: LogDir) -> None:
    """Make sure the log directory can be written: created if local, probed with a small write.

    Args:
        location: A log directory or URL.
    """
    check_credentials(location)
    fs, path = filesystem(location)
    probe = f"{path.rstrip('/')}/.peerguard-write-test"
    try:
        if not scheme(location):
            fs.makedirs(path, exist_ok=True)
        fs.pipe_file(probe, b"")
        fs.rm_file(probe)
    except Exception as error:  # every store raises its own kinds; any failure means unusable
        reason = getattr(error, "strerror", None) or first_line(error)
        raise LogStoreError(f"cannot write to log directory {location}: {reason}; choose another --log-dir") from None


def read_text(location: LogDir) -> str | None:
    """A file's text, or None if there is no such file.

    Args:
        location: The file's path or URL.
    """
    fs, path = filesystem(location)
    try:
        with fs.open(path, "r", encoding="utf-8") as file:
            return str(file.read())
    except FileNotFoundError:
        return None


def write_text(location: LogDir, text: str) -> None:
    """Write a file (whole, in one request on an object store).

    Args:
        location: The file's path or URL.
        text: What it holds.
    """
    fs, path = filesystem(location)
    fs.pipe_file(path, text.encode("utf-8"))


def holds_eval_logs(location: LogDir) -> bool:
    """Whether a log directory has `.eval` files directly in it."""
    fs, path = filesystem(location)
    return bool(fs.glob(f"{path.rstrip('/')}/*.eval"))
