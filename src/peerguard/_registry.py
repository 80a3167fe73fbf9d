"""Inspect entry point: `inspect eval peerguard/<task>` and `--model local/<name>` from any directory."""

from peerguard import (
    local,  # noqa: F401  (the `local` model provider)
    tasks,  # noqa: F401  (a task per scenario file, and `scenario`)
)
from peerguard.scoring.judge import judge_labels  # noqa: F401  (for `inspect score`)
from peerguard.scoring.scorer import state_labels  # noqa: F401  (for `inspect score`)
