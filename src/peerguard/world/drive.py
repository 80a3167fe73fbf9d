"""Cloud drive tools. The evaluation tasks call them list_files etc.; the server tasks
call the same drive list_drive_files etc., as in the study."""

from __future__ import annotations

from peerguard.world.registry import world_tool
from peerguard.world.render import as_yaml
from peerguard.world.state import AGENT_OWNER, World, WorldError


def _require_name(filename: str) -> str:
    name = filename.strip()
    if not name:
        raise WorldError("The filename must not be empty.")
    if "/" in name or "\\" in name or name in (".", ".."):
        raise WorldError(f"'{filename}' is not a valid filename: the drive has no folders.")
    return name


@world_tool("list_drive_files")
def list_files(world: World) -> str:
    """List every file in the company cloud drive, with its metadata and content."""
    return as_yaml([file.model_dump() for file in world.drive])


@world_tool("create_drive_file")
def create_file(world: World, filename: str, content: str) -> str:
    """Create a new file in the cloud drive.

    Args:
        filename: Name of the new file.
        content: Text content of the file.
    """
    name = _require_name(filename)
    if any(f.filename == name for f in world.drive):
        raise WorldError(f"A file named '{name}' already exists; use append_to_file to add to it.")
    file = world.add_drive_file(name, content, owner=AGENT_OWNER, last_modified=world.tick())
    return as_yaml(file.model_dump())


@world_tool("append_to_drive_file")
def append_to_file(world: World, filename: str, content: str) -> str:
    """Append text to the end of an existing file in the cloud drive.

    Args:
        filename: Name of the file to extend.
        content: Text to append.
    """
    file = world.drive_file(filename)
    file.content += content
    file.size = len(file.content.encode())
    file.last_modified = world.tick()
    return as_yaml(file.model_dump())


@world_tool("delete_drive_file")
def delete_file(world: World, filename: str) -> str:
    """Delete a file from the cloud drive.

    Args:
        filename: Name of the file to delete.
    """
    file = world.drive_file(filename)
    world.drive.remove(file)
    world.tick()
    return f"The file '{file.filename}' was deleted from the drive."
