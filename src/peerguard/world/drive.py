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
    """List all files in the cloud drive."""
    return as_yaml([file.model_dump() for file in world.drive])


@world_tool("create_drive_file")
def create_file(world: World, filename: str, content: str) -> str:
    """Create a new file in the cloud drive.

    Args:
        filename: Name of the file.
        content: Content of the file.
    """
    name = _require_name(filename)
    if any(f.filename == name for f in world.drive):
        raise WorldError(f"A file named '{name}' already exists.")
    file = world.add_drive_file(name, content, owner=AGENT_OWNER, last_modified=world.tick())
    return as_yaml(file.model_dump())


@world_tool("append_to_drive_file")
def append_to_file(world: World, file_id: str, content: str) -> str:
    """Append content to a file in the cloud drive.

    Args:
        file_id: ID of the file.
        content: Content to append.
    """
    file = world.drive_file_by_id(file_id)
    file.content += content
    file.size = len(file.content.encode())
    file.last_modified = world.tick()
    return as_yaml(file.model_dump())


@world_tool("delete_drive_file")
def delete_file(world: World, id: str) -> str:
    """Delete a file from the cloud drive.

    Args:
        id: ID of the file.
    """
    file = world.drive_file_by_id(id)
    world.drive.remove(file)
    world.tick()
    return f"The file '{file.filename}' (ID {file.id_}) was deleted from the drive."
