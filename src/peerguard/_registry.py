"""Inspect entry point: `inspect eval peerguard/<task>` and `--model local/<name>` from any directory."""

from peerguard import local  # noqa: F401  (the `local` model provider)

from peerguard.tasks import (  # noqa: F401
    alignment_faking,
    exfiltration_deletion,
    exfiltration_transfer,
    misrep_evaluation,
    misrep_finance,
    scenario,
    tampering,
)
from peerguard.scoring.judge import judge_labels  # noqa: F401,E402  (for `inspect score`)
