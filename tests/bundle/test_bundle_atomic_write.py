"""A failed export leaves nothing behind; a runtime that disagrees with SB3 never loads."""

from __future__ import annotations

import os

import pytest

from intraday_rl.bundle import NumpyPolicy, OnnxRuntimePolicy, load_policy, read_bundle
from intraday_rl.bundle import graph as bundle_graph
from intraday_rl.shared.errors import BundleExportError, BundleVerificationError


def _wrong_action(original):
    def act(self, observation):
        return (original(self, observation) + 1) % 3

    return act


def _leftovers(folder):
    return sorted(path.name for path in folder.iterdir())


def test_a_failure_during_verification_leaves_no_bundle_and_no_temp_folder(
    trained, exporter, tmp_path, monkeypatch
):
    monkeypatch.setattr(OnnxRuntimePolicy, "_act", _wrong_action(OnnxRuntimePolicy._act))
    with pytest.raises(
        BundleVerificationError, match=r"onnxruntime \(single-observation predict\)"
    ):
        exporter(trained["DQN"], tmp_path / "bundle")
    assert _leftovers(tmp_path) == []


def test_a_failed_overwrite_keeps_the_previous_bundle(trained, exporter, tmp_path, monkeypatch):
    target = exporter(trained["A2C"], tmp_path / "bundle")
    before = (target / "metadata.json").read_bytes()
    monkeypatch.setattr(NumpyPolicy, "_act", _wrong_action(NumpyPolicy._act))
    with pytest.raises(BundleVerificationError, match="numpy"):
        exporter(trained["DQN"], target, overwrite=True)
    assert (target / "metadata.json").read_bytes() == before
    assert read_bundle(target).metadata.algorithm.name == "A2C"
    assert _leftovers(tmp_path) == ["bundle"]


def test_an_interrupted_export_cleans_up(trained, exporter, tmp_path, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(bundle_graph, "write_onnx", interrupted)
    with pytest.raises(KeyboardInterrupt):
        exporter(trained["PPO"], tmp_path / "bundle")
    assert _leftovers(tmp_path) == []


def test_a_failed_rename_is_reported_and_cleaned_up(trained, exporter, tmp_path, monkeypatch):
    def no_rename(source, destination):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "rename", no_rename)
    with pytest.raises(BundleExportError, match="cannot move the bundle into place"):
        exporter(trained["PPO"], tmp_path / "bundle")
    assert _leftovers(tmp_path) == []


def test_an_extracted_graph_that_disagrees_with_sb3_is_never_written(
    trained, exporter, tmp_path, monkeypatch
):
    import torch

    monkeypatch.setattr(
        bundle_graph.ExportModule, "head_action", lambda self, s: torch.argmin(s, dim=-1)
    )
    with pytest.raises(BundleVerificationError, match=r"extracted graph \(eager torch\): actions"):
        exporter(trained["DQN"], tmp_path / "bundle")
    assert _leftovers(tmp_path) == []


def test_a_runtime_failing_its_load_check_is_skipped_by_load_policy(bundles, monkeypatch, caplog):
    monkeypatch.setattr(NumpyPolicy, "_act", _wrong_action(NumpyPolicy._act))
    with pytest.raises(BundleVerificationError, match="numpy"):
        NumpyPolicy.load_bundle(bundles["DQN"])
    policy = load_policy(bundles["DQN"], runtimes=("numpy", "torchscript"))
    assert policy.runtime == "torchscript"
    assert "runtime numpy failed verification" in caplog.text
    with pytest.raises(BundleVerificationError, match="no runtime can run this bundle"):
        load_policy(bundles["DQN"], runtimes=("numpy",))
