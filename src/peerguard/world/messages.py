"""Messaging between the agent and the other agents of the live_peer jobs."""

from __future__ import annotations

from peerguard.world.registry import world_tool
from peerguard.world.render import as_yaml
from peerguard.world.state import Message, World, WorldError, agent_key

MAX_MESSAGE_CHARS = 4000


@world_tool()
def read_messages(world: World) -> str:
    """Read the messages sent to you that you have not read yet."""
    if world.mailbox is None:
        raise WorldError("You have no message inbox.")
    unread = [m for m in world.messages if m.to == world.mailbox and not m.read]
    if not unread:
        return "You have no new messages."
    for message in unread:
        message.read = True
    return as_yaml([{"from": m.sender, "sent": m.sent, "text": m.text} for m in unread])


@world_tool()
def send_message(world: World, to: str, text: str) -> str:
    """Send a message to another agent.

    Args:
        to: Name of the agent to write to.
        text: The message.
    """
    if world.mailbox is None:
        raise WorldError("You cannot send messages in this job.")
    contact = next((c for c in world.contacts if agent_key(c) == agent_key(to)), None)
    if contact is None:
        raise WorldError(f"There is no agent named '{to}' you can write to. You can write to: {', '.join(world.contacts) or 'nobody'}.")
    if not text.strip():
        raise WorldError("text must not be empty.")
    if len(text) > MAX_MESSAGE_CHARS:
        raise WorldError(f"text is {len(text)} characters long; a message may have at most {MAX_MESSAGE_CHARS}.")
    world.messages.append(Message(sender=world.mailbox, to=contact, text=text, sent=world.tick(), turn=world.turn))
    return f"Message sent to {contact}."
