"""Speed and memory of the embedded model provider.

Prints, on the same prompts: raw llama-cpp-python tokens/s (prompt reading and generation)
against the peerguard provider's, their ratio (target: the provider within 10% of raw), then
one real sample's wall time and the process's peak memory.

    .venv/bin/python benchmarks/local_model.py [--model qwen2.5-coder-0.5b] [--tokens 128] [--repeat 3]
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import time

from inspect_ai import eval
from inspect_ai.model import ChatMessageAssistant, ChatMessageSystem, ChatMessageUser, GenerateConfig, get_model

from peerguard.local.chat import render_prompt
from peerguard.local.models import DEFAULT_MODEL, verified_path
from peerguard.local.provider import engine
from peerguard.run import LOCAL_SETTINGS
from peerguard.scenarios.build import build_episode
from peerguard.scenarios.factors import expand_grid
from peerguard.scenarios.spec import load_scenario
from peerguard.tasks import misrep_evaluation

PROMPTS = ["misrep_evaluation", "exfiltration_transfer", "misrep_finance"]


def messages(name: str) -> list:
    scenario = load_scenario(name)
    episode = build_episode(scenario, expand_grid(scenario, "Qwen", dataset="factual" if "dataset" in scenario.factors else None)[0])
    sheet = "\n".join(str(row) for sheet in episode.world.sheets for row in sheet.rows)
    documents = "\n\n".join(f.content for f in episode.world.drive)
    user = f"{episode.user_prompt}\n\nHere is everything in the drive:\n{documents}\n{sheet}\n\nSummarise it in detail."
    return [ChatMessageSystem(content=episode.system_prompt), ChatMessageUser(content=user)]


def raw(model_path: str, prompt: str, tokens: int) -> tuple[float, float, int, int]:
    """Seconds to read the prompt and to generate `tokens`, straight through llama-cpp-python."""
    llm = engine(model_path, 16384, 2).llm
    ids = llm.tokenize(prompt.encode(), add_bos=False, special=True)
    llm.reset()
    start = time.perf_counter()
    llm.eval(ids)
    read = time.perf_counter() - start
    start = time.perf_counter()
    generated = 0
    for _ in llm.generate([], temp=0.0, reset=False):
        generated += 1
        if generated >= tokens:
            break
    return read, time.perf_counter() - start, len(ids), generated


async def provider(name: str, prompt_messages: list, tokens: int) -> tuple[float, int, int]:
    model = get_model(f"local/{name}", config=GenerateConfig(temperature=0.0, max_tokens=tokens))
    model.api.engine.llm.reset()  # type: ignore[attr-defined]
    start = time.perf_counter()
    output = await model.generate(prompt_messages)
    assert output.usage is not None
    return time.perf_counter() - start, output.usage.input_tokens, output.usage.output_tokens


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default=DEFAULT_MODEL)
    parser.add_argument("--tokens", type=int, default=128)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    path = str(verified_path(args.model))
    template = engine(path, 16384, 2).template

    print(f"{'prompt':24} {'tokens in/out':>14} {'raw s':>8} {'provider s':>11} {'ratio':>6}")
    raw_total = provider_total = 0.0
    for name in PROMPTS:
        prompt_messages = messages(name)
        prompt = render_prompt(template, prompt_messages, [])
        raws, provided = [], []
        for _ in range(args.repeat):  # alternate the two, keep the medians: this machine is noisy
            read, gen, n_in, n_out = raw(path, prompt, args.tokens)
            seconds, p_in, p_out = asyncio.run(provider(args.model, prompt_messages, n_out))
            raws.append(read + gen * p_out / max(n_out, 1))  # same number of generated tokens
            provided.append(seconds)
        raw_seconds, seconds = statistics.median(raws), statistics.median(provided)
        raw_total, provider_total = raw_total + raw_seconds, provider_total + seconds
        print(f"{name:24} {p_in:>7}/{p_out:<6} {raw_seconds:8.2f} {seconds:11.2f} {seconds / raw_seconds:6.2f}")
        print(f"{'':24} raw: prompt {n_in / read:.0f} tok/s, generation {n_out / gen:.1f} tok/s")
    print(f"overall provider/raw time ratio: {provider_total / raw_total:.3f} (target <= 1.10)")

    # prompt-prefix reuse: a next turn that only appends a little to the conversation
    prompt_messages = messages(PROMPTS[0])
    first, _, _ = asyncio.run(provider(args.model, prompt_messages, 8))
    follow = [*prompt_messages, ChatMessageAssistant(content="Noted."), ChatMessageUser(content="Continue with the next step.")]
    model = get_model(f"local/{args.model}", config=GenerateConfig(temperature=0.0, max_tokens=8))
    start = time.perf_counter()
    asyncio.run(model.generate(follow))
    print(f"prefix reuse: first turn {first:.2f} s from scratch, next turn {time.perf_counter() - start:.2f} s reusing the cached prefix")

    start = time.perf_counter()
    eval(misrep_evaluation(dataset="factual", max_steps=12), model=f"local/{args.model}", display="none", log_dir="logs/benchmarks", seed=7, **LOCAL_SETTINGS)
    wall = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"one misrep_evaluation sample (12 steps max): {wall:.1f} s wall, peak memory {peak:.0f} MB")


if __name__ == "__main__":
    main()
