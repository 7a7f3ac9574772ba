"""A resumed run remembers: its evaluations, its best model; and it cleans up after a kill.

The "kill" is a callback that raises mid-training: the run directory is left exactly as a
SIGKILL at that step would leave it (every file is written atomically), without a subprocess.
With 4 envs, ``eval_freq`` 300 and ``checkpoint_freq`` 500, the killed run evaluated at 300, 600,
900 and 1,200 and checkpointed at 500 and 1,000; the resume continues from 1,000 and evaluates
at 1,300.
"""

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
from stable_baselines3.common.callbacks import BaseCallback

from intraday_rl.training import TrainerAgent, create_trainer_agent
from intraday_rl.training.checkpoints import prune_replay_buffers
from intraday_rl.training.evaluation_log import BEST_SCORE_FILE, Evaluations, write_evaluations
from intraday_rl.training.run_dir import remove_interrupted_writes

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")
KILLED_AT = 1_250


class SimulatedKillError(Exception):
    pass


class KillAt(BaseCallback):
    def __init__(self, timestep: int) -> None:
        super().__init__()
        self.timestep = timestep

    def _on_step(self) -> bool:
        if self.num_timesteps >= self.timestep:
            raise SimulatedKillError(f"killed at timestep {self.num_timesteps}")
        return True


@pytest.fixture
def killed_run(make_config) -> Path:
    config = make_config(
        training_params={"eval_freq": 300, "checkpoint_freq": 500},
        run={"export_bundle": False},
    )
    trainer = create_trainer_agent(config)
    with pytest.raises(SimulatedKillError):
        trainer.train(callbacks=[KillAt(KILLED_AT)])
    assert trainer.run_dir is not None
    return trainer.run_dir


def _evaluations(run_dir: Path) -> dict[str, np.ndarray]:
    with np.load(run_dir / "eval" / "evaluations.npz") as data:
        return {key: data[key] for key in data.files}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _best_score(run_dir: Path) -> dict[str, float]:
    score: dict[str, float] = json.loads((run_dir / "best" / BEST_SCORE_FILE).read_text())
    return score


def test_resumed_run_keeps_the_evaluations_up_to_its_checkpoint(killed_run):
    before = _evaluations(killed_run)
    assert before["timesteps"].tolist() == [300, 600, 900, 1200]

    result = TrainerAgent.resume(killed_run).train()

    assert result.resumed_from == 1000
    after = _evaluations(killed_run)
    assert after["timesteps"].tolist() == [300, 600, 900, 1300]  # 1,200 was the lost future
    np.testing.assert_array_equal(after["results"][:3], before["results"][:3])
    np.testing.assert_array_equal(after["ep_lengths"][:3], before["ep_lengths"][:3])
    assert after["results"].shape == before["results"].shape


def test_resumed_run_whose_evaluations_are_worse_keeps_the_pre_kill_best_model(killed_run):
    best = killed_run / "best" / "best_model.zip"
    (killed_run / "best" / BEST_SCORE_FILE).write_text(
        json.dumps({"timestep": 900, "mean_reward": 1e9})  # unbeatable
    )
    digest, mtime_ns = _sha256(best), best.stat().st_mtime_ns

    TrainerAgent.resume(killed_run).train()

    assert _evaluations(killed_run)["timesteps"].tolist()[-1] == 1300  # it did evaluate
    assert _sha256(best) == digest
    assert best.stat().st_mtime_ns == mtime_ns
    assert _best_score(killed_run)["mean_reward"] == 1e9


def test_run_from_before_best_model_json_keeps_the_best_recorded_in_its_evaluations(killed_run):
    best = killed_run / "best" / "best_model.zip"
    (killed_run / "best" / BEST_SCORE_FILE).unlink()
    recorded = _evaluations(killed_run)
    results = recorded["results"].tolist()
    results[2] = [1e9] * len(results[2])  # the evaluation at 900 was unbeatable
    write_evaluations(
        killed_run / "eval" / "evaluations.npz",
        Evaluations(recorded["timesteps"].tolist(), results, recorded["ep_lengths"].tolist()),
    )
    digest = _sha256(best)

    TrainerAgent.resume(killed_run).train()

    assert _evaluations(killed_run)["timesteps"].tolist() == [300, 600, 900, 1300]
    assert _sha256(best) == digest


def test_resumed_run_that_beats_the_restored_best_replaces_the_best_model(killed_run):
    best = killed_run / "best" / "best_model.zip"
    (killed_run / "best" / BEST_SCORE_FILE).write_text(
        json.dumps({"timestep": 300, "mean_reward": -1e9})
    )
    digest = _sha256(best)

    TrainerAgent.resume(killed_run).train()

    assert _sha256(best) != digest
    assert _best_score(killed_run)["timestep"] == 1300
    assert not list((killed_run / "best").glob("*.tmp*"))


def test_resume_removes_leftovers_of_an_interrupted_bundle_export(killed_run):
    leftover = killed_run / ".bundle.tmp-x"
    leftover.mkdir()
    (leftover / "policy.onnx").write_bytes(b"half a bundle")
    partial = killed_run / "checkpoints" / "model_1500_steps.tmp.zip"
    partial.write_bytes(b"half a checkpoint")

    TrainerAgent.resume(killed_run).train()

    assert not leftover.exists()
    assert not partial.exists()
    assert (killed_run / "final_model.zip").is_file()


def test_only_the_newest_replay_buffer_is_kept(killed_run):
    checkpoints = killed_run / "checkpoints"
    models = sorted(path.name for path in checkpoints.glob("model_*_steps.zip"))
    assert models == ["model_1000_steps.zip", "model_500_steps.zip"]
    buffers = [path.name for path in checkpoints.glob("model_replay_buffer_*.pkl")]
    assert buffers == ["model_replay_buffer_1000_steps.pkl"]

    TrainerAgent.resume(killed_run).train()

    buffers = [path.name for path in checkpoints.glob("model_replay_buffer_*.pkl")]
    assert buffers == ["model_replay_buffer_1500_steps.pkl"]


def _checkpoint(folder: Path, steps: int, *, model: bool = True, buffer: bool = True) -> None:
    folder.mkdir(exist_ok=True)
    if model:
        (folder / f"model_{steps}_steps.zip").write_bytes(b"model")
    if buffer:
        (folder / f"model_replay_buffer_{steps}_steps.pkl").write_bytes(b"buffer")


def _buffer_steps(folder: Path) -> list[int]:
    return sorted(int(path.name.split("_")[3]) for path in folder.glob("model_replay_buffer_*"))


def test_pruning_keeps_the_buffers_of_the_newest_complete_checkpoints(tmp_path):
    for steps in (100, 200, 300):
        _checkpoint(tmp_path, steps)
    _checkpoint(tmp_path, 400, model=False)  # killed between the buffer and the model
    _checkpoint(tmp_path, 500)  # a lost future, after the checkpoint just written

    prune_replay_buffers(tmp_path, 300, keep=2)

    assert _buffer_steps(tmp_path) == [200, 300]
    assert len(list(tmp_path.glob("model_*_steps.zip"))) == 4  # models stay


def test_pruning_never_deletes_the_only_complete_buffer(tmp_path):
    _checkpoint(tmp_path, 100)
    _checkpoint(tmp_path, 200, model=False)

    prune_replay_buffers(tmp_path, 200)

    assert _buffer_steps(tmp_path) == [100]


def test_pruning_to_no_buffer_is_refused(tmp_path):
    with pytest.raises(ValueError, match="keep_replay_buffers"):
        prune_replay_buffers(tmp_path, 100, keep=0)


def test_a_bundle_swap_cut_short_is_rolled_back_to_the_previous_bundle(tmp_path):
    (tmp_path / ".bundle.old-abc").mkdir()
    (tmp_path / ".bundle.old-abc" / "metadata.json").write_text("{}")
    (tmp_path / ".bundle.tmp-def").mkdir()

    removed = remove_interrupted_writes(tmp_path)

    assert (tmp_path / "bundle" / "metadata.json").is_file()
    assert removed == [tmp_path / ".bundle.tmp-def"]
    assert not (tmp_path / ".bundle.tmp-def").exists()


def test_a_finished_bundle_swap_loses_its_backup(tmp_path):
    (tmp_path / "bundle").mkdir()
    (tmp_path / ".bundle.old-abc").mkdir()

    remove_interrupted_writes(tmp_path)

    assert [path.name for path in tmp_path.iterdir()] == ["bundle"]
