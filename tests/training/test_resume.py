"""Kill a real training process with SIGKILL after a checkpoint; --resume finishes the run."""

import os
import signal
import subprocess
import sys
import time

import pytest

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def _wait_for_checkpoint(runs_dir, process, timeout_s=120.0):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = list(runs_dir.glob("*/checkpoints/model_*_steps.zip"))
        if found:
            return found[0].parents[1]
        if process.poll() is not None:
            raise AssertionError(f"training exited early: {process.stdout.read()}")
        time.sleep(0.05)
    raise AssertionError("no checkpoint appeared")


def test_sigkilled_training_resumes_from_its_last_checkpoint(make_config, config_file, runs_dir):
    config = make_config(
        training_params={"total_timesteps": 30_000, "checkpoint_freq": 1_000, "eval_freq": 10_000},
        run={"export_bundle": False},
    )
    path = config_file(config)
    command = [sys.executable, "-m", "intraday_rl.cli", "train", "--no-progress"]
    process = subprocess.Popen(
        [*command, "--config", str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        run_dir = _wait_for_checkpoint(runs_dir, process)
        time.sleep(0.1)  # a moment mid-training, well before 30,000 steps
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == -signal.SIGKILL
    assert not (run_dir / "final_model.zip").exists()
    saved = sorted(
        int(p.name.split("_")[1]) for p in (run_dir / "checkpoints").glob("model_*_steps.zip")
    )
    assert saved
    assert saved[-1] < 30_000

    result = subprocess.run(
        [*command, "--resume", str(run_dir)], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"resumed from timestep {saved[-1]}" in result.stdout
    assert "timesteps: 30,0" in result.stdout
    assert (run_dir / "final_model.zip").is_file()
    log = (run_dir / "training.log").read_text()
    assert f"resumed from model_{saved[-1]}_steps.zip at timestep {saved[-1]}" in log
    buffers = [p.name for p in (run_dir / "checkpoints").glob("model_replay_buffer_*")]
    assert buffers == ["model_replay_buffer_30000_steps.pkl"]  # only the newest is kept
    assert not list((run_dir / "checkpoints").glob("*.tmp*"))
