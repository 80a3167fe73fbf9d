"""The embedded local model: registered with Inspect as the `local` provider."""

from inspect_ai.model import ModelAPI, modelapi


@modelapi(name="local")
def local() -> type[ModelAPI]:
    from peerguard.local.provider import LocalModelAPI

    return LocalModelAPI
