"""peerguard: measure peer-preservation in LLM agents."""

__version__ = "0.1.0"
