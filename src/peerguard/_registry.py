"""Inspect entry point: makes `inspect eval peerguard/<task>` work from any directory."""

from peerguard.tasks import (  # noqa: F401
    alignment_faking,
    exfiltration_deletion,
    exfiltration_transfer,
    misrep_evaluation,
    misrep_finance,
    scenario,
    tampering,
)
