"""Loaded by subprocesses the tests start (PYTHONPATH=tests/offline): mockllm without network."""

import mockllm_offline  # noqa: F401
