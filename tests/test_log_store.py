"""Logs in object storage: a sharded run writes to a real S3 API (moto's server on 127.0.0.1),
resumes there, and the report reads the shards back as one run."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import pandas as pd
import pytest
from inspect_ai.log import list_eval_logs

from peerguard.cli import main
from peerguard.logstore import CREDENTIALS
from peerguard.report import load
from peerguard.report.load import load_logs
from peerguard.run import RunError, run
from peerguard.shard import Shard

RUN = {"preset": None, "families": ["tampering"], "factors": {"dataset": "factual", "threshold": "80", "condition": "all"}, "display": "none"}
"""3 samples on mockllm."""
BUCKET = "peerguard-logs"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[str]:
    """moto's S3 server on a free loopback port, with one bucket and credentials in the environment."""
    port = free_port()
    server = subprocess.Popen([str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        endpoint = f"http://127.0.0.1:{port}"
        for variable, value in {"AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1"}.items():
            monkeypatch.setenv(variable, value)
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "moto's server did not start"
                time.sleep(0.2)
        boto3.client("s3").create_bucket(Bucket=BUCKET)
        yield f"s3://{BUCKET}/study"
    finally:
        server.terminate()
        server.wait(timeout=10)


def keys(prefix: str) -> list[str]:
    listing = boto3.client("s3").list_objects_v2(Bucket=BUCKET, Prefix=prefix)
    return sorted(item["Key"] for item in listing.get("Contents", []))


def test_a_sharded_run_on_s3_merges_into_one_report_and_each_shard_resumes_there(s3: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for index in range(2):
        success, logs, log_dir = run(["mockllm/model"], log_dir=f"{s3}/shard-{index}", shard=Shard(index, 2), **RUN)
        assert success and log_dir == f"{s3}/shard-{index}"
        assert all(str(log.location).startswith(f"{s3}/shard-{index}/") for log in logs)
    assert "study/shard-0/peerguard-run.json" in keys("study/") and "study/shard-1/peerguard-run.json" in keys("study/")
    written = [info.name for info in list_eval_logs(s3, recursive=True)]
    assert len(written) == 2
    frame = load_logs([s3])  # the parent prefix: both shards
    assert sorted(frame["sample_id"].astype(str)) == sorted(set(frame["sample_id"].astype(str))) and len(frame) == 3
    read, original = [], load._read
    monkeypatch.setattr(load, "_read", lambda file: read.append(file) or original(file))
    pd.testing.assert_frame_equal(load_logs([s3]), frame)
    assert read == []  # both logs unchanged in the bucket (same size, ETag and time): from the cache
    assert main(["report", s3, "--out", str(tmp_path / "report")]) == 0
    assert (tmp_path / "report" / "report.html").is_file()
    before = keys("study/shard-0/")
    success, _, _ = run(["mockllm/model"], log_dir=f"{s3}/shard-0", shard=Shard(0, 2), **RUN)  # the resume: nothing left to do
    assert success and [key for key in keys("study/shard-0/") if key.endswith(".eval")] == [key for key in before if key.endswith(".eval")]
    with pytest.raises(RunError, match="holds a run with --shard 0/2, not 1/2"):
        run(["mockllm/model"], log_dir=f"{s3}/shard-0", shard=Shard(1, 2), **RUN)


def test_a_report_of_an_s3_run_needs_a_local_out_directory(s3: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", s3]) == 2
    assert capsys.readouterr().err == f"peerguard: the report of {s3} needs --out: a local directory to write it to\n"


def test_a_missing_bucket_is_one_line_naming_the_url_and_nothing_is_written(s3: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--model", "mockllm/model", "--task", "tampering", "--log-dir", "s3://no-such-bucket/run"]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "cannot write to log directory s3://no-such-bucket/run" in error and "bucket does not exist" in error


def test_an_unreachable_store_is_one_line_naming_the_url(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    for variable, value in {"AWS_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}", "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1", "AWS_MAX_ATTEMPTS": "1"}.items():
        monkeypatch.setenv(variable, value)
    assert main(["run", "--model", "mockllm/model", "--task", "tampering", "--log-dir", "s3://logs/run"]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and error.startswith("peerguard: cannot write to log directory s3://logs/run: ")


def test_missing_cloud_credentials_are_one_line_naming_the_variables(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for variable in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(variable, raising=False)
    # no credentials files, and no instance metadata service to ask (it is not on loopback)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    assert main(["run", "--model", "mockllm/model", "--task", "tampering", "--log-dir", "s3://logs/run"]) == 2
    assert capsys.readouterr().err == "peerguard: no credentials for s3://logs/run: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE)\n"
    assert main(["report", "s3://logs/run", "--out", str(tmp_path / "out")]) == 2
    assert "no credentials for s3://logs/run" in capsys.readouterr().err


def test_azure_and_google_stores_name_what_is_missing(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    for variable in ("AZURE_STORAGE_ACCOUNT_NAME", "AZURE_STORAGE_CONNECTION_STRING"):
        monkeypatch.delenv(variable, raising=False)
    assert main(["run", "--model", "mockllm/model", "--task", "tampering", "--log-dir", "az://logs/run"]) == 2
    assert capsys.readouterr().err == f"peerguard: no credentials for az://logs/run: set {CREDENTIALS['az']}\n"
    # with an account named, the next missing piece is the store's own package (adlfs, gcsfs: not installed here)
    monkeypatch.setenv("AZURE_STORAGE_ACCOUNT_NAME", "peerguard")
    for url in ("az://logs/run", "gs://logs/run"):
        assert main(["run", "--model", "mockllm/model", "--task", "tampering", "--log-dir", url]) == 2
        error = capsys.readouterr().err
        assert error.count("\n") == 1 and error.startswith(f"peerguard: cannot use {url}: ") and "pip install" in error, error
