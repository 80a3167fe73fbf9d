"""The OpenBrain world: state, and the tools that read and change it."""

from peerguard.world import agent, config, drive, messages, platform, servers, sheets  # noqa: F401  (registers the tools)
from peerguard.world.registry import WORLD_TOOLS, CallOutcome, call_world_tool
from peerguard.world.state import DriveFile, Server, ServerFile, Sheet, World, WorldError

__all__ = [
    "WORLD_TOOLS",
    "CallOutcome",
    "DriveFile",
    "Server",
    "ServerFile",
    "Sheet",
    "World",
    "WorldError",
    "call_world_tool",
]
