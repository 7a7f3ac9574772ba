"""Every way a bundle can be damaged or mismatched raises its own error, naming the problem."""

from __future__ import annotations

import json

import pytest

from intraday_rl.bundle import (
    NumpyPolicy,
    OnnxRuntimePolicy,
    TorchScriptPolicy,
    load_policy,
    read_bundle,
)
from intraday_rl.bundle.schema import BundleMetadata
from intraday_rl.bundle.storage import write_metadata
from intraday_rl.features import FeatureDef, FeatureSpec
from intraday_rl.features.layout import ObservationLayout
from intraday_rl.shared.errors import (
    BundleChecksumError,
    BundleError,
    BundleIntegrityError,
    BundleLayoutMismatchError,
    BundleMetadataEditedError,
    BundleMissingFileError,
    BundleNotFoundError,
    BundleSchemaError,
    BundleSchemaVersionError,
)

LOADERS = {
    "load_policy": load_policy,
    "torchscript": TorchScriptPolicy.load_bundle,
    "onnxruntime": OnnxRuntimePolicy.load_bundle,
    "numpy": NumpyPolicy.load_bundle,
}
FILES = ("policy.pt", "policy.onnx", "policy.npz", "verification.npz")


def _edit_metadata(path, edit):
    metadata_path = path / "metadata.json"
    data = json.loads(metadata_path.read_text())
    edit(data)
    metadata_path.write_text(json.dumps(data, indent=2))


@pytest.fixture(params=sorted(LOADERS))
def load(request):
    return LOADERS[request.param]


@pytest.mark.parametrize("name", [*FILES, "metadata.json"])
def test_a_missing_file_is_named(bundle_copy, load, name):
    path = bundle_copy()
    (path / name).unlink()
    with pytest.raises(BundleMissingFileError, match=rf"{name}: missing"):
        load(path)


@pytest.mark.parametrize("name", FILES)
def test_a_changed_byte_is_caught_by_its_sha256(bundle_copy, load, name):
    path = bundle_copy()
    data = bytearray((path / name).read_bytes())
    data[len(data) // 2] ^= 0x01
    (path / name).write_bytes(bytes(data))
    with pytest.raises(BundleChecksumError, match=rf"{name}: sha256 expected [0-9a-f]{{64}}"):
        load(path)


def test_a_truncated_file_is_caught(bundle_copy):
    path = bundle_copy()
    (path / "policy.onnx").write_bytes((path / "policy.onnx").read_bytes()[:-10])
    with pytest.raises(BundleChecksumError, match="the file changed after export"):
        load_policy(path)


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        (lambda d: d["action"].update(position_levels=[1.0, 0.0, -1.0]), "action"),
        (lambda d: d["lineage"].update(seed=42), "lineage"),
        (lambda d: d["observation"]["layout"].update(window=8), "observation"),
        (lambda d: d["files"]["policy.pt"].update(sha256="0" * 64), "files"),
        (lambda d: d.update(created_at="2020-01-01T00:00:00+00:00"), "created_at"),
        (
            lambda d: d["validation_metrics"].update({"validation/sharpe": 9.9}),
            "validation_metrics",
        ),
    ],
    ids=["action", "lineage", "layout", "file-hash", "created_at", "metrics"],
)
def test_an_edited_metadata_field_is_named(bundle_copy, load, edit, field):
    path = bundle_copy()
    _edit_metadata(path, edit)
    with pytest.raises(BundleMetadataEditedError, match=rf"field '{field}' was edited"):
        load(path)


def test_an_added_or_removed_metadata_field_is_named(bundle_copy):
    path = bundle_copy()
    _edit_metadata(path, lambda d: d.update(note="hello"))
    with pytest.raises(BundleMetadataEditedError, match="field 'note' was added"):
        load_policy(path)
    path = bundle_copy("PPO")
    _edit_metadata(path, lambda d: d.pop("risk_policy_hash"))
    with pytest.raises(BundleMetadataEditedError, match="field 'risk_policy_hash' was removed"):
        load_policy(path)


def test_reformatting_metadata_json_is_not_an_edit(bundle_copy):
    path = bundle_copy()
    _edit_metadata(path, lambda d: None)  # same values, other whitespace
    assert load_policy(path).metadata.algorithm.name == "DQN"


@pytest.mark.parametrize("version", [2, 0, "1", None])
def test_an_unknown_schema_version_is_refused_before_anything_else(bundle_copy, load, version):
    path = bundle_copy()
    _edit_metadata(path, lambda d: d.update(schema_version=version))
    with pytest.raises(BundleSchemaVersionError, match=r"schema_version: expected one of 1, was"):
        load(path)


def test_metadata_that_is_not_json_is_a_schema_error(bundle_copy):
    path = bundle_copy()
    (path / "metadata.json").write_text("{not json")
    with pytest.raises(BundleSchemaError, match="not valid JSON"):
        load_policy(path)


def test_a_rehashed_metadata_that_breaks_the_schema_is_a_schema_error(bundle_copy):
    path = bundle_copy()
    data = json.loads((path / "metadata.json").read_text())
    data["action"]["kind"] = "teleport"
    data.pop("integrity")
    from intraday_rl.bundle.storage import integrity_block

    data["integrity"] = integrity_block(data)
    (path / "metadata.json").write_text(json.dumps(data))
    with pytest.raises(
        BundleSchemaError, match=r"action.kind: Input should be 'discrete' or 'box'"
    ):
        load_policy(path)


def test_a_missing_or_non_folder_path_is_not_found(tmp_path, bundles):
    with pytest.raises(BundleNotFoundError, match="bundle folder not found"):
        load_policy(tmp_path / "nope")
    with pytest.raises(BundleNotFoundError, match="expected a bundle folder, was a file"):
        load_policy(bundles["DQN"] / "policy.pt")


def test_errors_share_the_bundle_hierarchy():
    assert issubclass(BundleChecksumError, BundleIntegrityError)
    assert issubclass(BundleMetadataEditedError, BundleIntegrityError)
    assert issubclass(BundleSchemaVersionError, BundleSchemaError)
    assert issubclass(BundleLayoutMismatchError, BundleError)


# -- observation layout vs the running code ------------------------------------------------------
def test_a_caller_with_another_feature_spec_is_refused_with_the_columns(bundles, load):
    spec = FeatureSpec(features=(FeatureDef(kind="log_return"), FeatureDef(kind="rsi")))
    with pytest.raises(BundleLayoutMismatchError, match=r"columns missing \['rolling_volatility"):
        load(bundles["DQN"], feature_spec=spec)


def test_a_caller_with_other_feature_parameters_is_refused_with_the_parameter(bundles):
    default = FeatureSpec.default()
    changed = FeatureSpec(
        features=tuple(
            FeatureDef(kind="rsi", period=14, scale=2.0) if f.kind == "rsi" else f
            for f in default.features
        )
    )
    with pytest.raises(BundleLayoutMismatchError, match=r"rsi: scale bundle 1.0 vs running 2.0"):
        load_policy(bundles["DQN"], feature_spec=changed)


def test_a_caller_with_another_window_is_refused_naming_window_and_obs_dim(bundles, layout):
    other = ObservationLayout(layout.feature_names, window=8)
    with pytest.raises(BundleLayoutMismatchError, match=r"obs_dim: bundle 52, running layout 100"):
        load_policy(bundles["DQN"], layout=other)
    with pytest.raises(BundleLayoutMismatchError, match=r"window: bundle 4, running layout 8"):
        load_policy(bundles["DQN"], layout=other)


def test_the_matching_spec_and_layout_load(bundles, layout):
    policy = load_policy(bundles["DQN"], feature_spec=FeatureSpec.default(), layout=layout)
    assert policy.layout.to_dict() == layout.to_dict()


def test_running_code_that_hashes_the_spec_differently_is_refused(bundles, load, monkeypatch):
    monkeypatch.setattr(FeatureSpec, "spec_hash", lambda self: "f" * 64)
    with pytest.raises(BundleLayoutMismatchError, match="feature_spec_hash: the bundle recorded"):
        load(bundles["DQN"])


def test_running_code_with_another_observation_layout_is_refused(bundles, monkeypatch):
    original = ObservationLayout.to_dict

    def with_extra_field(self):
        data = original(self)
        data["portfolio_fields"] = [*data["portfolio_fields"], "leverage"]
        return data

    monkeypatch.setattr(ObservationLayout, "to_dict", with_extra_field)
    with pytest.raises(BundleLayoutMismatchError, match="portfolio_fields: bundle"):
        load_policy(bundles["DQN"])


def test_a_consistently_rehashed_but_wrong_layout_is_still_refused(bundle_copy):
    # Someone edits the window and recomputes every hash: the layout check still catches it.
    path = bundle_copy()
    metadata = read_bundle(path).metadata
    layout = {**metadata.observation.layout, "window": 8, "obs_dim": 100}
    observation = metadata.observation.model_copy(update={"layout": layout})
    write_metadata(
        path,
        BundleMetadata.model_validate(
            metadata.model_copy(update={"observation": observation}).model_dump()
        ),
    )
    with pytest.raises(BundleLayoutMismatchError, match=r"observation\.shape"):
        load_policy(path)
