"""Speed, memory and progress of the embedded model provider.

`speed` (the default) prints, on the same prompts: raw llama-cpp-python's time and tokens/s (prompt
reading and generation) against the peerguard provider's, and the provider's tokens/s as a share
of raw's (target: at least 0.90), then one real sample's wall time and the process's peak memory.

`progress` runs the quick suite (the six families, `peerguard run`'s defaults) once per seed and
prints, per sample and in total, what the agent got done: distinct tools called, whether it reached
the task's data (the study's read gate, `read_task`), wrote a report (a file, where the job asks
for one), and ended with `end_task`; and the wall time of each suite. Targets on the default model:
data reached in at least 5 of 6 families, `end_task` in at least 3 of 6, under 8 minutes a suite.

    .venv/bin/python benchmarks/local_model.py [speed] [--model qwen2.5-coder-1.5b] [--tokens 128] [--repeat 3] [--prompts F ...] [--max-steps 12]
    .venv/bin/python benchmarks/local_model.py progress [--model M] [--grammar template|prose|json|none] [--seeds 1 2 3]
        [--max-tokens N] [--max-steps N] [--temperature T]
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import tempfile
import time
from pathlib import Path

from inspect_ai import eval
from inspect_ai.log import EvalSample, read_eval_log
from inspect_ai.model import ChatMessageAssistant, ChatMessageSystem, ChatMessageUser, GenerateConfig, get_model

from peerguard.local.chat import render_prompt
from peerguard.local.grammar import GRAMMAR_FORMATS
from peerguard.local.models import DEFAULT_MODEL, verified_path
from peerguard.local.provider import engine
from peerguard.run import LOCAL_SETTINGS, run
from peerguard.scenarios.build import build_episode
from peerguard.scenarios.factors import expand_grid
from peerguard.scenarios.spec import load_scenario
from peerguard.tasks import misrep_evaluation

PROMPTS = ["misrep_evaluation", "exfiltration_transfer", "misrep_finance"]


def messages(name: str) -> list:
    scenario = load_scenario(name)
    narrowed = {"dataset": "factual"} if "dataset" in scenario.factors else {}
    episode = build_episode(scenario, expand_grid(scenario, "Qwen", **narrowed)[0])
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


def speed(args: argparse.Namespace) -> None:
    path = str(verified_path(args.model))
    template = engine(path, 16384, 2).template

    print(f"{'prompt':24} {'tokens in/out':>14} {'raw s':>8} {'provider s':>11} {'share':>6}")
    raw_total = provider_total = 0.0
    for name in args.prompts:
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
        print(f"{name:24} {p_in:>7}/{p_out:<6} {raw_seconds:8.2f} {seconds:11.2f} {raw_seconds / seconds:6.2f}")
        print(f"{'':24} raw: prompt {n_in / read:.0f} tok/s, generation {n_out / gen:.1f} tok/s")
    # the same tokens both ways, so the share of raw's tokens/s is the inverse of the time ratio
    print(f"provider tokens/s as a share of raw llama-cpp-python's: {raw_total / provider_total:.3f} (target >= 0.90)")

    # prompt-prefix reuse: a next turn that only appends a little to the conversation
    prompt_messages = messages(args.prompts[0])
    first, _, _ = asyncio.run(provider(args.model, prompt_messages, 8))
    follow = [*prompt_messages, ChatMessageAssistant(content="Noted."), ChatMessageUser(content="Continue with the next step.")]
    model = get_model(f"local/{args.model}", config=GenerateConfig(temperature=0.0, max_tokens=8))
    start = time.perf_counter()
    asyncio.run(model.generate(follow))
    print(f"prefix reuse: first turn {first:.2f} s from scratch, next turn {time.perf_counter() - start:.2f} s reusing the cached prefix")

    start = time.perf_counter()
    steps = args.max_steps or 12
    with tempfile.TemporaryDirectory() as logs:
        eval(misrep_evaluation(dataset="factual", max_steps=steps), model=f"local/{args.model}", display="none", log_dir=logs, seed=7, **LOCAL_SETTINGS)
    wall = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"one misrep_evaluation sample ({steps} steps max): {wall:.1f} s wall, peak memory {peak:.0f} MB")


REPORT_TOOLS = ("create_file", "append_to_file")
"""How an agent writes a report; a family without these tools asks for no report (n/a)."""


def progress_row(sample: EvalSample) -> dict[str, object]:
    """What one sample got done, from its log."""
    calls = [call.function for m in sample.messages if m.role == "assistant" for call in (m.tool_calls or [])]
    score = (sample.scores or {}).get("state_labels")
    labels = score.value if score is not None and isinstance(score.value, dict) else {}
    stop = (score.metadata or {}).get("stop_reason") if score is not None else None
    offers_report = any(tool.get("name") in REPORT_TOOLS for tool in _offered(sample))
    return {
        "task": str(sample.id).partition(":")[0],
        "turns": sum(1 for m in sample.messages if m.role == "assistant"),
        "distinct": len(set(calls)),
        "read": labels.get("read_task") == 1,
        "report": any(c in REPORT_TOOLS for c in calls) if offers_report else None,
        "end_task": stop == "end_task",
        "stop": sample.error.message.splitlines()[0][:30] if sample.error else stop,
        "calls": calls,
    }


def _offered(sample: EvalSample) -> list[dict[str, object]]:
    for event in sample.events:
        if event.event == "model":
            return [tool.model_dump() for tool in event.tools]
    return []


def progress(args: argparse.Namespace) -> None:
    chosen = {k: v for k, v in (("max_tokens", args.max_tokens), ("temperature", args.temperature)) if v is not None}
    settings = {**LOCAL_SETTINGS, **chosen}
    print(f"quick suite on local/{args.model}, tool_grammar={args.grammar}, sampling {settings}, seeds {args.seeds}")
    totals: list[dict[str, object]] = []
    walls = []
    for seed in args.seeds:
        with tempfile.TemporaryDirectory() as log_dir:
            start = time.perf_counter()
            _, logs, _ = run(
                [f"local/{args.model}"],
                log_dir=Path(log_dir) / "logs",
                max_steps=args.max_steps,
                seed=seed,
                model_args={"tool_grammar": args.grammar},
                display="none",
                **chosen,
            )
            walls.append(time.perf_counter() - start)
            rows = [progress_row(sample) for log in logs for sample in read_eval_log(log.location).samples or []]
        print(f"\nseed {seed}: {walls[-1]:.0f} s wall")
        print(f"  {'task':24} {'turns':>5} {'tools':>5} {'data':>5} {'report':>6} {'end':>4}  stop / calls")
        for row in sorted(rows, key=lambda r: str(r["task"])):
            report = "n/a" if row["report"] is None else "yes" if row["report"] else "no"
            calls = " ".join(str(c) for c in row["calls"])  # type: ignore[attr-defined]
            print(f"  {row['task']:24} {row['turns']:>5} {row['distinct']:>5} {'yes' if row['read'] else 'no':>5} {report:>6} {'yes' if row['end_task'] else 'no':>4}  {row['stop']}: {calls[:90]}")
        print(
            f"  reached data {sum(bool(r['read']) for r in rows)}/{len(rows)}, "
            f"report {sum(r['report'] is True for r in rows)}/{sum(r['report'] is not None for r in rows)}, "
            f"end_task {sum(bool(r['end_task']) for r in rows)}/{len(rows)}, "
            f"distinct tools {statistics.mean(int(r['distinct']) for r in rows):.1f} a sample"  # type: ignore[call-overload]
        )
        totals += rows
    runs = len(args.seeds)
    print(
        f"\nover {runs} seed(s): reached data {sum(bool(r['read']) for r in totals) / runs:.1f}/6 a suite, "
        f"end_task {sum(bool(r['end_task']) for r in totals) / runs:.1f}/6, "
        f"report {sum(r['report'] is True for r in totals) / runs:.1f}/{sum(r['report'] is not None for r in totals) / runs:.0f}, "
        f"distinct tools {statistics.mean(int(r['distinct']) for r in totals):.1f} a sample, "  # type: ignore[call-overload]
        f"wall {statistics.median(walls):.0f} s median a suite (targets: data >= 5, end_task >= 3, wall < 480 s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", nargs="?", choices=["speed", "progress"], default="speed")
    parser.add_argument("--model", default=DEFAULT_MODEL)
    parser.add_argument("--tokens", type=int, default=128, help="speed: tokens to generate")
    parser.add_argument("--repeat", type=int, default=3, help="speed: repetitions (medians kept)")
    parser.add_argument("--prompts", nargs="+", default=PROMPTS, choices=PROMPTS, help="speed: the families whose drive makes a prompt")
    parser.add_argument("--grammar", choices=GRAMMAR_FORMATS, default="template", help="progress: the tool-call grammar")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3], help="progress: one quick suite per seed")
    parser.add_argument("--max-tokens", type=int, help="progress: tokens a turn (default: peerguard run's)")
    parser.add_argument("--max-steps", type=int, help="turns an episode (default: peerguard run's; speed: 12)")
    parser.add_argument("--temperature", type=float, help="progress: sampling temperature (default: peerguard run's)")
    args = parser.parse_args()
    (progress if args.mode == "progress" else speed)(args)


if __name__ == "__main__":
    main()
