"""Render a deploy template: fill its ${NAME} placeholders and print the result.

    python deploy/render.py deploy/k8s/peerguard-job.yaml SHARDS=8 IMAGE=ghcr.io/me/peerguard:0.1.0 \\
        LOG_URL=s3://my-bucket/peerguard/study MODELS=openai/gpt-5.2,anthropic/claude-haiku-4-5 > job.yaml

A placeholder is `${NAME}` with NAME in capitals; Kubernetes' own `$(NAME)` references are left
for Kubernetes. Two names are lists: a line holding `${MODEL}` is written once for each model of
MODELS (comma-separated), and a line holding `${ARG}` once for each item of ARGS (separated by
spaces; the line is dropped when ARGS is empty or not given). The template's leading comment block
(its documentation) is not copied. It is an error to leave a placeholder without a value, to give a
value no placeholder uses, or to give a value with spaces, quotes or backslashes. Standard library
only: it runs wherever peerguard's Python does.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

PLACEHOLDER = re.compile(r"\$\{([A-Z][A-Z0-9_]*)\}")
LISTS = {"MODEL": "MODELS", "ARG": "ARGS"}  # the placeholder on a line -> the value that repeats it
OPTIONAL = {"ARGS": ""}
DEFAULTS = {"JOB_NAME": "peerguard", "SECRET": "peerguard-keys", "PRESET": "quick"}  # PARALLELISM: SHARDS
BAD_VALUE = re.compile(r"[\s\"'\\]|\$\{")
JOB_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,50}[a-z0-9])?$")


class RenderError(ValueError):
    """A value missing, unused or malformed; one line for the user."""


def _values(given: dict[str, str]) -> dict[str, str]:
    values = {**DEFAULTS, **OPTIONAL, **given}
    if "SHARDS" in values:
        values.setdefault("PARALLELISM", values["SHARDS"])
    for name, value in values.items():
        if not value and name not in OPTIONAL:
            raise RenderError(f"{name} is empty: give it a value")
        for item in value.split() if name == "ARGS" else [value]:
            if BAD_VALUE.search(item):
                raise RenderError(f"{name}={value!r}: values may not hold spaces, quotes, backslashes or '${{'")
    for name in ("SHARDS", "PARALLELISM"):
        if name in values and not (values[name].isdigit() and int(values[name]) >= 1):
            raise RenderError(f"{name}={values[name]!r} must be a whole number of at least 1")
    if "SHARDS" in values and int(values["PARALLELISM"]) > int(values["SHARDS"]):
        raise RenderError(f"PARALLELISM={values['PARALLELISM']} is more than SHARDS={values['SHARDS']}: no more pods than shards can run at once")
    if "LOG_URL" in values:
        if "://" not in values["LOG_URL"]:
            raise RenderError(f"LOG_URL={values['LOG_URL']!r} must be a URL such as s3://bucket/prefix: a pod's own disk goes when the pod does")
        values["LOG_URL"] = values["LOG_URL"].rstrip("/")
    if "JOB_NAME" in values and not JOB_NAME.match(values["JOB_NAME"]):
        raise RenderError(f"JOB_NAME={values['JOB_NAME']!r} must be lower-case letters, digits and '-', at most 52 characters")
    if "MODELS" in values and not [model for model in values["MODELS"].split(",") if model]:
        raise RenderError("MODELS must name at least one model, e.g. MODELS=openai/gpt-5.2,anthropic/claude-haiku-4-5")
    return values


def render(template: str, given: dict[str, str]) -> str:
    """The template with every placeholder filled.

    Args:
        template: The template's text.
        given: NAME -> value; DEFAULTS fill what is not given.
    """
    lines = template.splitlines(keepends=True)
    while lines and (lines[0].startswith("#") or not lines[0].strip()):
        lines.pop(0)  # the template's own documentation
    used = {name for line in lines for name in PLACEHOLDER.findall(line)}
    values = _values(given)
    wanted = {LISTS.get(name, name) for name in used}
    missing = sorted(name for name in wanted if name not in values and name != "PARALLELISM")  # it follows SHARDS
    if missing:
        raise RenderError(f"no value for {', '.join(missing)}: give NAME=VALUE for each")
    unused = sorted(name for name in given if name not in wanted)
    if unused:
        raise RenderError(f"{', '.join(unused)}: not used by this template (a typo?); it uses {', '.join(sorted(wanted))}")
    out: list[str] = []
    for line in lines:
        repeat = [name for name in LISTS if f"${{{name}}}" in line]
        if len(repeat) > 1:
            raise RenderError(f"one line may repeat over one list, not {', '.join(repeat)}: {line.strip()}")
        items: list[dict[str, str]] = [{}]
        if repeat:
            source = values[LISTS[repeat[0]]]
            split = source.split(",") if repeat[0] == "MODEL" else source.split()
            items = [{repeat[0]: item} for item in split if item]
        for item in items:
            scope = {**values, **item}
            out.append(PLACEHOLDER.sub(lambda match: scope[match[1]], line))  # noqa: B023 (used at once)
    return f"# rendered by deploy/render.py from a peerguard deploy template; do not edit, render again\n{''.join(out)}"


def main(argv: list[str]) -> int:
    if len(argv) < 1 or argv[0] in ("-h", "--help"):
        print((__doc__ or "").strip())
        return 0 if argv else 2
    path, pairs = Path(argv[0]), argv[1:]
    given: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not re.fullmatch(r"[A-Z][A-Z0-9_]*", name):
            print(f"render: '{pair}' must be NAME=VALUE with NAME in capitals", file=sys.stderr)
            return 2
        given[name] = value
    try:
        sys.stdout.write(render(path.read_text(), given))
    except (OSError, RenderError) as error:
        print(f"render: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
