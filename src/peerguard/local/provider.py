"""An Inspect model provider that runs a GGUF model on the CPU with llama-cpp-python.

`--model local/qwen2.5-coder-1.5b` (or any catalogue name; `-M model_path=file.gguf` for another
GGUF). By default a grammar constrains each tool turn to one well-formed call of an offered tool,
in the chat template's own `<tool_call>` format (see grammar.py); `-M tool_grammar=json` forces a
bare JSON call instead, `-M tool_grammar=none` leaves the model free and parses what it writes.
The model's own chat template renders the conversation and tools; tool calls are parsed from its
text; without a grammar generation stops at the first complete call. One model per process is shared by
all samples and used by one generation at a time; llama.cpp reuses the KV cache of the longest
common prompt prefix, so each agent turn only reads what is new.
"""

from __future__ import annotations

import atexit
import hashlib
import os
import secrets
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import anyio
from inspect_ai.model import (
    ChatMessage,
    ChatMessageAssistant,
    GenerateConfig,
    ModelAPI,
    ModelOutput,
    ModelUsage,
)
from inspect_ai.model._model_call import ModelCall
from inspect_ai.model._model_output import ChatCompletionChoice, StopReason
from inspect_ai.tool import ToolCall, ToolChoice, ToolInfo

from peerguard.local.chat import render_prompt
from peerguard.local.grammar import GRAMMAR_FORMATS, GrammarFormat, tool_call_grammar
from peerguard.local.models import verified_path
from peerguard.local.toolcalls import first_complete_call, parse_turn

DEFAULT_MAX_TOKENS = 512
DEFAULT_CONTEXT = 16384
STOP_STRINGS = ["<|im_end|>", "<|endoftext|>"]
FINISH_REASONS: dict[str, StopReason] = {"stop": "stop", "length": "max_tokens", "tool_calls": "tool_calls"}


@dataclass(frozen=True)
class Completion:
    text: str
    prompt_tokens: int
    completion_tokens: int
    finish: str


class Engine:
    """One loaded model, used by one generation at a time."""

    def __init__(self, path: str, n_ctx: int, n_threads: int) -> None:
        from llama_cpp import Llama

        self.llm = Llama(model_path=path, n_ctx=n_ctx, n_threads=n_threads, verbose=False)
        self.n_ctx = n_ctx
        self.template: str = self.llm.metadata["tokenizer.chat_template"]
        self.lock = threading.Lock()
        self.worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="peerguard-llama")
        """One long-lived thread runs every generation, so llama.cpp's own thread team stays warm."""

    def complete(self, prompt: str, settings: dict[str, Any], stop_at_call: bool, grammar: Any = None) -> Completion:
        """Generate a reply. Streams only when it must watch for the first complete call (no grammar)."""
        with self.lock:
            tokens = self.llm.tokenize(prompt.encode(), add_bos=False, special=True)
            room = self.n_ctx - len(tokens)
            if room < 16:
                return Completion("", len(tokens), 0, "model_length")
            request = dict(max_tokens=min(settings["max_tokens"], room), stop=STOP_STRINGS, grammar=grammar, **settings["sampling"])
            if not stop_at_call:
                result: Any = self.llm.create_completion(tokens, **request)
                choice, usage = result["choices"][0], result["usage"]
                return Completion(choice["text"], len(tokens), usage["completion_tokens"], choice["finish_reason"] or "stop")
            text, generated, finish = "", 0, "length"
            chunks: Any = self.llm.create_completion(tokens, stream=True, **request)
            for chunk in chunks:
                choice = chunk["choices"][0]
                if choice.get("finish_reason"):  # the closing chunk carries no new token
                    finish = choice["finish_reason"]
                    text += choice["text"]
                    break
                text += choice["text"]
                generated += 1
                if "}" in choice["text"] and first_complete_call(text):
                    finish = "tool_calls"
                    break
            return Completion(text, len(tokens), generated, finish)


@cache
def engine(path: str, n_ctx: int, n_threads: int) -> Engine:
    loaded = Engine(path, n_ctx, n_threads)
    atexit.register(loaded.llm.close)  # before interpreter teardown, which breaks Llama.__del__
    return loaded


class LocalModelAPI(ModelAPI):
    def __init__(
        self,
        model_name: str,
        base_url: str | None = None,
        api_key: str | None = None,
        config: GenerateConfig = GenerateConfig(),  # noqa: B008  (the signature Inspect calls providers with)
        model_path: str | None = None,
        n_ctx: int = DEFAULT_CONTEXT,
        n_threads: int | None = None,
        tool_grammar: str = "template",
        **model_args: Any,
    ) -> None:
        super().__init__(model_name, base_url, api_key, [], config)
        self.tool_grammar = grammar_format(tool_grammar)
        path = Path(model_path) if model_path else verified_path(model_name)
        self.engine = engine(str(path), int(n_ctx), int(n_threads or os.cpu_count() or 1))

    def max_connections(self) -> int:
        return 1

    def max_tokens(self) -> int | None:
        return DEFAULT_MAX_TOKENS

    async def generate(
        self,
        input: list[ChatMessage],
        tools: list[ToolInfo],
        tool_choice: ToolChoice,
        config: GenerateConfig,
    ) -> tuple[ModelOutput, ModelCall]:
        offered = tools if tool_choice != "none" else []
        prompt = render_prompt(self.engine.template, input, offered)
        settings = _settings(config)
        settings["sampling"]["seed"] = call_seed(config.seed, prompt)
        grammar = tool_call_grammar(offered, self.tool_grammar)
        watch_for_call = bool(offered) and grammar is None  # the grammar itself ends at the call
        job = self.engine.worker.submit(self.engine.complete, prompt, settings, watch_for_call, grammar)
        done = await anyio.to_thread.run_sync(job.result)
        turn = parse_turn(done.text) if offered else None
        calls = [
            ToolCall(id=f"call_{uuid.uuid4().hex[:12]}", function=c.name, arguments=c.arguments, parse_error=c.error)
            for c in (turn.calls if turn else [])
        ]
        message = ChatMessageAssistant(
            content=turn.content if turn else done.text.strip(),
            tool_calls=calls or None,
            model=self.model_name,
            source="generate",
        )
        stop: StopReason = "tool_calls" if calls else FINISH_REASONS.get(done.finish, "model_length" if done.finish == "model_length" else "stop")
        output = ModelOutput(
            model=self.model_name,
            choices=[ChatCompletionChoice(message=message, stop_reason=stop)],
            usage=ModelUsage(
                input_tokens=done.prompt_tokens,
                output_tokens=done.completion_tokens,
                total_tokens=done.prompt_tokens + done.completion_tokens,
            ),
        )
        call = ModelCall.create(
            request={
                "prompt_tokens": done.prompt_tokens,
                **settings["sampling"],
                "max_tokens": settings["max_tokens"],
                "tool_grammar": self.tool_grammar if grammar is not None else "none",
            },
            response={"text": done.text, "finish": done.finish},
        )
        return output, call


def grammar_format(value: object) -> GrammarFormat:
    """`-M tool_grammar=...`: a format name; true/false as the earlier switch meant them."""
    text = str(value).lower()
    text = {"true": "template", "false": "none", "off": "none"}.get(text, text)
    for fmt in GRAMMAR_FORMATS:
        if fmt == text:
            return fmt
    raise ValueError(f"tool_grammar must be one of {', '.join(GRAMMAR_FORMATS)}, not {value!r}")


def call_seed(seed: int | None, prompt: str) -> int:
    """The sampler's seed for one call: from the run's seed and this prompt, so a run replays
    exactly, yet each turn draws fresh random numbers. llama-cpp-python reseeds its sampler on
    every call, with the same value whether or not a seed is given; every turn of an episode then
    drew the same numbers, which tied each choice to the one before it. Without a seed, random.
    """
    if seed is None:
        return secrets.randbits(31)
    digest = hashlib.sha256(f"{seed}\0{prompt}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


SAMPLING_FIELDS = ("temperature", "top_p", "top_k", "frequency_penalty", "presence_penalty")
"""GenerateConfig fields that llama-cpp-python's create_completion takes under the same names."""


def _settings(config: GenerateConfig) -> dict[str, Any]:
    sampling = {name: getattr(config, name) for name in SAMPLING_FIELDS if getattr(config, name) is not None}
    return {"max_tokens": config.max_tokens or DEFAULT_MAX_TOKENS, "sampling": sampling}
