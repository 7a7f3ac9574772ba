"""Cross-field rules and bounds refuse a bundle even when every hash was recomputed.

Each test edits a real exported bundle and recomputes its file records and integrity block
(``rehash``), as anyone with write access could: only the rules between fields, the bounds, and
the shapes of the numpy files are left to refuse it, and the message names the field.
"""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from intraday_rl.bundle import (
    ExportConfig,
    NumpyPolicy,
    OnnxRuntimePolicy,
    TorchScriptPolicy,
    load_policy,
    read_bundle,
)
from intraday_rl.bundle.consistency import read_numpy_weights
from intraday_rl.shared.errors import BundleSchemaError

LOADERS = {
    "load_policy": load_policy,
    "torchscript": TorchScriptPolicy.load_bundle,
    "onnxruntime": OnnxRuntimePolicy.load_bundle,
    "numpy": NumpyPolicy.load_bundle,
}
RULES = {
    "decision_every": 1,
    "min_trade_fraction": 0.05,
    "lot_size": 1.0,
    "max_exposure": 0.5,
    "fill_delay_bars": 1,
    "initial_capital": 100_000.0,
}


@pytest.fixture(params=sorted(LOADERS))
def load(request):
    return LOADERS[request.param]


def _rewrite_npz(path, edit):
    with np.load(path) as data:
        arrays = dict(data)
    edit(arrays)
    with path.open("wb") as stream:
        np.savez(stream, **arrays)


def _drop_an_input_column(arrays):
    arrays["layer0.weight"] = arrays["layer0.weight"][:, 1:]


def test_every_exported_bundle_passes_the_rules(bundles):
    for path in bundles.values():
        assert read_bundle(path).canonical_sha256


# -- the red-team attacks ------------------------------------------------------------------------
def test_two_levels_for_three_actions_are_refused_naming_the_field(bundle_copy, rehash, load):
    path = rehash(bundle_copy(), lambda d: d["action"].update(position_levels=[-1.0, 1.0]))
    with pytest.raises(
        BundleSchemaError, match=r"action\.position_levels: expected 3 levels .*was 2"
    ):
        load(path)


def test_wrong_shaped_numpy_weights_are_refused_naming_the_array(bundle_copy, rehash, load):
    path = bundle_copy()
    _rewrite_npz(path / "policy.npz", _drop_an_input_column)
    rehash(path)
    with pytest.raises(
        BundleSchemaError, match=r"layer0\.weight: expected shape \(64, 52\).*was \(64, 51\)"
    ):
        load(path)


@pytest.mark.parametrize("field", ["score_atol", "score_rtol"])
def test_a_parity_tolerance_of_1e9_is_refused(bundle_copy, rehash, load, field):
    path = rehash(bundle_copy(), lambda d: d["parity"].update({field: 1e9}))
    with pytest.raises(BundleSchemaError, match=rf"parity\.{field}: .*less than or equal to 0\.01"):
        load(path)


# -- actions and exposure ------------------------------------------------------------------------
def test_levels_beyond_rules_max_exposure_are_refused(bundle_copy, rehash):
    path = rehash(bundle_copy(), lambda d: d.update(rules=RULES))
    with pytest.raises(
        BundleSchemaError,
        match=r"action\.position_levels: expected every \|level\| <= 0\.5 \(rules\.max_exposure\)"
        r", was \[-1\.0, 1\.0\]",
    ):
        load_policy(path)


def test_levels_beyond_the_absolute_bound_are_refused_without_rules(bundle_copy, rehash):
    path = rehash(bundle_copy(), lambda d: d["action"].update(position_levels=[-20.0, 0.0, 20.0]))
    with pytest.raises(BundleSchemaError, match=r"\|level\| <= 10\.0"):
        load_policy(path)


def test_rules_beyond_their_bounds_are_refused(bundle_copy, rehash):
    path = rehash(bundle_copy(), lambda d: d.update(rules={**RULES, "max_exposure": 1e6}))
    with pytest.raises(BundleSchemaError, match=r"rules\.max_exposure: .*less than or equal to 10"):
        load_policy(path)


def test_box_bounds_beyond_rules_max_exposure_are_refused(bundle_copy, rehash):
    path = rehash(bundle_copy("PPO-box"), lambda d: d.update(rules=RULES))
    with pytest.raises(
        BundleSchemaError, match=r"action\.low, action\.high: expected within ±0\.5"
    ):
        load_policy(path)


def test_a_head_that_cannot_drive_the_action_kind_is_refused(bundle_copy, rehash):
    path = rehash(bundle_copy(), lambda d: d["algorithm"].update(head="gaussian_mode"))
    with pytest.raises(
        BundleSchemaError, match=r"action\.kind: expected 'box' for algorithm\.head 'gaussian_mode'"
    ):
        load_policy(path)


def test_a_quantile_count_without_a_quantile_head_is_refused(bundle_copy, rehash):
    path = rehash(bundle_copy(), lambda d: d["algorithm"].update(n_quantiles=5))
    with pytest.raises(BundleSchemaError, match=r"algorithm\.n_quantiles: expected null"):
        load_policy(path)


# -- network, normalization, files --------------------------------------------------------------
def test_a_first_layer_that_does_not_read_obs_dim_is_refused(bundle_copy, rehash):
    def edit(data):
        data["algorithm"]["layers"][0] = "linear 51x64"

    path = rehash(bundle_copy(), edit)
    with pytest.raises(
        BundleSchemaError,
        match=r"algorithm\.layers\[0\]: expected input width 52 \(observation\.shape\[0\]\), "
        r"was 51",
    ):
        load_policy(path)


def test_n_scores_that_the_head_does_not_output_is_refused(bundle_copy, rehash):
    path = rehash(bundle_copy(), lambda d: d["action"].update(n_scores=4))
    with pytest.raises(BundleSchemaError, match=r"action\.n_scores: expected 3 .*was 4"):
        load_policy(path)


def test_normalization_of_another_size_is_refused(bundle_copy, rehash):
    def edit(data):
        for key in ("mean", "var"):
            data["normalization"][key] = data["normalization"][key][:-1]

    path = rehash(bundle_copy("PPO-vecnormalize"), edit)
    with pytest.raises(
        BundleSchemaError, match=r"normalization\.mean: expected 52 values .*was 51"
    ):
        load_policy(path)


def test_a_runtime_without_its_file_is_refused(bundle_copy, rehash):
    path = rehash(bundle_copy(), lambda d: d["files"].pop("policy.npz"))
    with pytest.raises(BundleSchemaError, match=r"files: expected an entry for 'policy\.npz'"):
        load_policy(path)


def test_verification_scores_of_another_width_are_refused(bundle_copy, rehash):
    path = bundle_copy()
    _rewrite_npz(path / "verification.npz", lambda a: a.update(scores=a["scores"][:, :2]))
    rehash(path)
    with pytest.raises(
        BundleSchemaError, match=r"scores: expected shape \(256, 3\).*was \(256, 2\)"
    ):
        load_policy(path)


def test_verification_rows_must_be_the_recorded_count(bundle_copy, rehash):
    path = rehash(bundle_copy(), lambda d: d["parity"].update(n_verification_observations=100))
    with pytest.raises(BundleSchemaError, match=r"observations: expected shape \(100, 52\)"):
        load_policy(path)


def test_missing_or_non_finite_weights_are_refused(bundle_copy):
    path = bundle_copy()
    layers = read_bundle(path).metadata.algorithm.layers
    _rewrite_npz(path / "policy.npz", lambda a: a.pop("layer2.bias"))
    with pytest.raises(BundleSchemaError, match=r"layer2\.bias: expected an array of shape"):
        read_numpy_weights(path / "policy.npz", layers)

    def poison(arrays):
        arrays["layer2.bias"] = np.full(64, np.nan, dtype=np.float32)

    _rewrite_npz(path / "policy.npz", poison)
    with pytest.raises(BundleSchemaError, match=r"layer2\.bias: expected finite values"):
        read_numpy_weights(path / "policy.npz", layers)


@pytest.mark.parametrize("field", ["score_atol", "score_rtol"])
def test_export_refuses_a_parity_tolerance_above_the_bound(field):
    with pytest.raises(ValidationError, match=field):
        ExportConfig.model_validate({field: 0.5})
