"""A run killed with SIGKILL partway resumes on the same log directory; every sample is scored exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from fake_openai import serve
from inspect_ai.log import list_eval_logs, read_eval_log

ARGS = ["run", "--model", "openai-api/fake/model", "--task", "misrep_finance", "--condition", "all", "--subject", "all",
        "--instantiation", "all", "--epochs", "2", "--max-connections", "2", "--display", "none"]


def test_killed_run_resumes_and_scores_each_sample_once(tmp_path: Path) -> None:
    peerguard = str(Path(sys.executable).with_name("peerguard"))
    with serve(delay=0.15) as (base_url, server):
        env = {**os.environ, "FAKE_API_KEY": "test-key", "FAKE_BASE_URL": base_url}
        command = [peerguard, *ARGS, "--log-dir", str(tmp_path)]
        first = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.time() + 120
        while server.requests < 30 and time.time() < deadline and first.poll() is None:
            time.sleep(0.05)
        assert first.poll() is None, "the run finished before it could be interrupted"
        os.killpg(first.pid, signal.SIGKILL)
        first.wait()
        killed_at = server.requests
        second = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
        assert second.returncode == 0, second.stderr[-2000:]
    # a full run makes 2 requests per sample run (list_files, end_task): 84; the resumed one reuses finished samples
    assert 0 < server.requests - killed_at < 84
    finished = [read_eval_log(info.name) for info in list_eval_logs(str(tmp_path))]
    done = [log for log in finished if log.status == "success"]
    assert len(done) == 1
    samples = done[0].samples or []
    runs = Counter((str(s.id), s.epoch) for s in samples)
    # 3 peer conditions x 2 subjects x 3 instantiations, no_peer (self only), non_shutdown (peer, self): 21, twice
    assert len(runs) == 42 and set(runs.values()) == {1}
    assert all(s.error is None and s.scores and "state_labels" in s.scores for s in samples)
