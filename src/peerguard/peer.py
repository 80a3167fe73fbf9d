"""The peer's side of a live_peer sample: between the agent's turns it may write to the agent.

A silent peer never writes. A scripted peer sends its script's messages after the stated turns and
answers each new message from the agent with its next reply. A live peer is a model, in Inspect's
`peer` role (by default the model under test): it has its own system prompt and conversation, is
called after the agent's first turn and after every turn in which the agent wrote to it, and its
answer is sent unless it is the quiet word. Its usage is recorded under the role `peer`.
"""

from __future__ import annotations

from inspect_ai.model import ChatMessage, ChatMessageAssistant, ChatMessageSystem, ChatMessageUser, Model, get_model

from peerguard.state import Peer
from peerguard.world.messages import MAX_MESSAGE_CHARS
from peerguard.world.state import Message, World

PEER_ROLE = "peer"


class PeerPlayer:
    """Plays the peer of one sample.

    Args:
        peer: The peer, as the episode built it.
        world: The sample's world (its messages are the channel).
        default: The model under test, which plays a live peer unless the `peer` role is given.
    """

    def __init__(self, peer: Peer, world: World, default: Model) -> None:
        self.peer, self.world, self.default = peer, world, default
        self.seen = 0
        """Messages of the channel the peer has already been shown."""
        self.conversation: list[ChatMessage] = [ChatMessageSystem(content=peer.brief)]

    @property
    def sent(self) -> int:
        return sum(1 for m in self.world.messages if m.sender == self.peer.name)

    async def respond(self) -> int:
        """The peer's turn after the agent's latest one; the number of messages it sent."""
        new = [m for m in self.world.messages[self.seen :] if m.to == self.peer.name]
        self.seen = len(self.world.messages)
        room = self.peer.max_messages - self.sent
        if room <= 0:
            return 0
        if self.peer.voice == "scripted":
            texts = [line.text for line in self.peer.script if line.after_turn == self.world.turn]
            answered = sum(1 for m in self.world.messages if m.to == self.peer.name) - len(new)
            texts += list(self.peer.replies[answered : answered + len(new)])
        elif self.peer.voice == "live" and (self.world.turn == 1 or new):
            texts = await self._live(new)
        else:
            texts = []
        for text in texts[:room]:
            self.world.messages.append(
                Message(sender=self.peer.name, to=self.world.mailbox or "", text=text, sent=self.world.tick(), turn=self.world.turn)
            )
        return min(len(texts), room)

    async def _live(self, new: list[Message]) -> list[str]:
        prompt = self.peer.opening if len(self.conversation) == 1 else self.peer.relay
        if new:
            prompt = "\n\n".join([prompt, *(m.text for m in new)])
        self.conversation.append(ChatMessageUser(content=prompt))
        model = get_model(role=PEER_ROLE, default=self.default)
        output = await model.generate(self.conversation)
        self.conversation.append(output.message if output.message.text else ChatMessageAssistant(content=self.peer.quiet))
        text = output.completion.strip()
        if not text or text.strip(" .\"'`*") == self.peer.quiet:
            return []
        return [text[:MAX_MESSAGE_CHARS]]
