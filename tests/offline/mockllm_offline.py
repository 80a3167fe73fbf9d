"""Keep Inspect's `mockllm` usable offline.

mockllm counts tokens with tiktoken's o200k_base encoding, which tiktoken downloads on first
use. Without network (CI, air-gapped machines) that download fails and the sample errors. This
falls back to a byte-length estimate for mockllm only; real providers report their own usage.
"""

from __future__ import annotations

from inspect_ai.model._providers.mockllm import MockLLM

_original = MockLLM.count_text_tokens
_encoding_unavailable = False


async def _count_text_tokens(self: MockLLM, text: str) -> int:
    global _encoding_unavailable
    if not _encoding_unavailable:
        try:
            return await _original(self, text)
        except Exception:  # the encoding could not be fetched
            _encoding_unavailable = True
    return max(1, int(len(text.encode()) / 4 * 1.1))


MockLLM.count_text_tokens = _count_text_tokens  # type: ignore[method-assign]
