"""Export an extracted policy as a verified bundle (written to a temp folder, renamed into place).

Steps of :func:`export_bundle`:

1. check the arguments (target, layout vs feature spec, normalization, lineage, observations);
2. check that the extracted greedy network (:mod:`intraday_rl.bundle.graph`), run eagerly,
   reproduces the reference predict (the training framework's own greedy actions) on the
   parity observations;
3. write ``policy.pt``, ``policy.onnx``, ``policy.npz`` (MLPs), ``verification.npz`` and a draft
   ``metadata.json`` into a hidden folder next to the target;
4. load every runtime from that folder through the normal verified load path, compare it with
   the reference on all parity observations, and time its predict;
5. record parity and latency in ``metadata.json``, re-read the folder, rename it into place.

Any failure removes the temp folder: the target is either the complete bundle or untouched.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from intraday_rl.bundle.inputs import ObservationChecker
from intraday_rl.bundle.loading import runtime_class
from intraday_rl.bundle.metadata import build_metadata, bundle_files
from intraday_rl.bundle.normalization import (
    ExportConfig,
    ObservationNormalization,
    TrainingLineage,
)
from intraday_rl.bundle.parity import ParityReference, compare_to_reference, save_reference
from intraday_rl.bundle.schema import (
    NUMPY_FILE,
    ONNX_FILE,
    RUNTIME_NAMES,
    TORCHSCRIPT_FILE,
    VERIFICATION_FILE,
    ActingRules,
    ParityInfo,
    RuntimeName,
)
from intraday_rl.bundle.storage import (
    check_target,
    make_temp_folder,
    publish,
    read_bundle,
    write_metadata,
)
from intraday_rl.features.config import FeatureSpec
from intraday_rl.features.layout import ObservationLayout
from intraday_rl.shared.arrays import Float32Array
from intraday_rl.shared.errors import (
    BundleExportError,
    BundleVerificationError,
    PredictionInputError,
)

if TYPE_CHECKING:
    from intraday_rl.bundle.graph import ExtractedPolicy

_LOG = logging.getLogger(__name__)
MIN_RECOMMENDED_PARITY_OBSERVATIONS = 1000


ReferencePredict = Callable[[Float32Array], npt.NDArray[Any]]


def export_bundle(
    policy: ExtractedPolicy,
    out_dir: str | Path,
    *,
    reference_predict: ReferencePredict,
    layout: ObservationLayout,
    feature_spec: FeatureSpec,
    lineage: Mapping[str, Any],
    validation_metrics: Mapping[str, float] | None = None,
    risk_policy_hash: str | None = None,
    parity_observations: npt.ArrayLike | None = None,
    overwrite: bool = False,
    config: ExportConfig | None = None,
    rules: ActingRules | None = None,
) -> Path:
    """Export an extracted policy as a verified bundle folder.

    For an SB3 model, :func:`intraday_rl.training.export.export_sb3_model` extracts the network
    and the reference and calls this.

    Args:
        policy: The greedy network and its records (:class:`~intraday_rl.bundle.graph.
            ExtractedPolicy`), its observation normalization included.
        out_dir: The bundle folder to create (its parent is created if needed).
        reference_predict: The training framework's greedy predict on raw observations (n,
            obs_dim) float32 → actions (n,) int or (n, dims) float: what every runtime must match.
        layout: The observation layout the model was trained on.
        feature_spec: The feature spec behind ``layout`` (its columns must be the layout's).
        lineage: ``config_hash``, ``data_fingerprint``, ``seed``, ``timesteps`` (or
            ``total_timesteps``), optional ``git_commit``; other keys are kept under ``extra``.
        validation_metrics: Metrics to record (NaN / inf are recorded as null).
        risk_policy_hash: Hash of the risk policy used in training (or in ``lineage``).
        parity_observations: Raw observations (n, obs_dim) from real env rollouts, before any
            normalization; >= 1000 recommended.
        overwrite: Replace an existing bundle at ``out_dir``.
        config: Verification settings.
        rules: The env rules the actions depend on (decision clock, deadband, sizing), recorded
            for execution.

    Returns:
        ``out_dir`` as a Path.

    Raises:
        BundleExportError: Bad arguments, or ``out_dir`` exists.
        BundleVerificationError: A runtime (or the extracted graph) disagrees with the reference.
        BundleRuntimeUnavailableError: onnxruntime (needed to verify policy.onnx) is missing.
    """
    config = config or ExportConfig()
    target = Path(out_dir)
    check_target(target, overwrite=overwrite)
    _check_layout(layout, feature_spec)
    extracted = policy
    norm = _checked_normalization(extracted.normalization, layout.obs_dim)
    lineage_record = TrainingLineage.from_mapping(lineage)
    risk_hash = _risk_policy_hash(risk_policy_hash, lineage_record, feature_spec)
    _check_observation_shape(extracted, layout)
    observations, source = _parity_observations(parity_observations, layout, norm, config)
    reference = _reference(reference_predict, extracted, observations, config)
    runtimes: tuple[RuntimeName, ...] = tuple(
        name for name in RUNTIME_NAMES if name != "numpy" or extracted.layers
    )
    temp = make_temp_folder(target)
    try:
        _write_files(temp, extracted, layout.obs_dim, reference, config)
        parity = ParityInfo(
            source=source,
            n_observations=len(observations),
            n_verification_observations=min(config.n_verification_observations, len(observations)),
            score_atol=config.score_atol,
            score_rtol=config.score_rtol,
        )
        draft = build_metadata(
            extracted,
            layout=layout,
            feature_spec=feature_spec,
            normalization=norm,
            runtimes=runtimes,
            files=bundle_files(temp),
            lineage=lineage_record,
            risk_policy_hash=risk_hash,
            validation_metrics=validation_metrics or {},
            parity=parity,
            rules=rules,
        )
        write_metadata(temp, draft)
        results, latency = _verify_runtimes(temp, reference, runtimes, feature_spec, layout, config)
        final = draft.model_copy(
            update={
                "parity": parity.model_copy(update={"runtimes": results}),
                "latency_validation": latency,
            }
        )
        write_metadata(temp, final)
        read_bundle(temp)
        publish(temp, target, overwrite=overwrite)
    finally:
        shutil.rmtree(temp, ignore_errors=True)
    _LOG.info(
        "exported %s bundle to %s (runtimes %s, parity on %d %s observations)",
        extracted.algorithm,
        target,
        ", ".join(runtimes),
        len(observations),
        source,
    )
    return target


def _check_layout(layout: ObservationLayout, feature_spec: FeatureSpec) -> None:
    if layout.feature_names != feature_spec.column_names:
        raise BundleExportError(
            f"layout: feature names {list(layout.feature_names)} are not the feature spec's "
            f"columns {list(feature_spec.column_names)}"
        )


def _checked_normalization(
    norm: ObservationNormalization | None, obs_dim: int
) -> ObservationNormalization | None:
    if norm is not None and norm.size != obs_dim:
        raise BundleExportError(
            f"normalization: expected statistics for {obs_dim} observation elements, "
            f"was {norm.size}"
        )
    return norm


def _risk_policy_hash(
    argument: str | None, lineage: TrainingLineage, feature_spec: FeatureSpec
) -> str | None:
    recorded_spec = lineage.extra.get("feature_spec_hash")
    if recorded_spec is not None and recorded_spec != feature_spec.spec_hash():
        raise BundleExportError(
            f"lineage.feature_spec_hash: {recorded_spec} is not the feature spec's hash "
            f"{feature_spec.spec_hash()} (the spec passed is not the one training used)"
        )
    recorded = lineage.extra.get("risk_policy_hash")
    if argument is not None and recorded is not None and argument != recorded:
        raise BundleExportError(
            f"risk_policy_hash: {argument} differs from lineage.risk_policy_hash {recorded}"
        )
    return argument if argument is not None else recorded


def _check_observation_shape(policy: ExtractedPolicy, layout: ObservationLayout) -> None:
    if policy.obs_shape != (layout.obs_dim,):
        raise BundleExportError(
            f"model: observation space shape {policy.obs_shape} is not the layout's "
            f"({layout.obs_dim},)"
        )


def _parity_observations(
    observations: npt.ArrayLike | None,
    layout: ObservationLayout,
    normalization: ObservationNormalization | None,
    config: ExportConfig,
) -> tuple[Float32Array, str]:
    if observations is None:
        _LOG.warning(
            "export: no parity observations given; checking parity on %d synthetic ones "
            "(pass observations from env rollouts)",
            config.n_synthetic_observations,
        )
        rng = np.random.default_rng(0)
        shape = (config.n_synthetic_observations, layout.obs_dim)
        sample = rng.standard_normal(shape)
        if normalization is not None:
            sample = np.asarray(normalization.mean) + sample * np.sqrt(normalization.var)
        return sample.astype(np.float32), "synthetic"
    try:
        array = ObservationChecker(layout.field_names).convert(observations)
    except PredictionInputError as error:
        raise BundleExportError(f"parity_observations: {error}") from None
    array = array.reshape(-1, layout.obs_dim)
    if len(array) < MIN_RECOMMENDED_PARITY_OBSERVATIONS:
        _LOG.warning("export: only %d parity observations (>= 1000 recommended)", len(array))
    return array, "rollouts"


def _reference(
    reference_predict: ReferencePredict,
    extracted: ExtractedPolicy,
    observations: Float32Array,
    config: ExportConfig,
) -> ParityReference:
    # The framework's own greedy actions and the eager graph's scores on raw observations; the
    # eager graph must already agree with the framework.
    actions = np.asarray(reference_predict(observations))
    action = extracted.action
    if action.kind == "discrete":
        if actions.shape != (len(observations),) or not (
            np.isin(actions, np.arange(action.n_actions or 0)).all()
        ):
            raise BundleExportError(
                f"reference_predict: expected {len(observations)} action indices in "
                f"0..{(action.n_actions or 0) - 1}, was shape {actions.shape} with values "
                f"{np.unique(actions)[:5].tolist()}"
            )
        actions = actions.astype(np.int64)
    elif actions.reshape(len(observations), -1).shape[1] != action.n_scores:
        raise BundleExportError(
            f"reference_predict: expected ({len(observations)}, {action.n_scores}) box actions, "
            f"was shape {actions.shape}"
        )
    reference = ParityReference(observations, actions, extracted.reference_scores(observations))
    with_graph = extracted.module(_tensor(observations)).numpy()
    compare_to_reference(
        reference,
        with_graph,
        reference.scores,
        discrete=extracted.action.kind == "discrete",
        atol=config.score_atol,
        rtol=config.score_rtol,
        runtime="extracted graph (eager torch)",
    )
    return reference


def _tensor(observations: Float32Array) -> Any:
    import torch

    return torch.from_numpy(np.ascontiguousarray(observations))


def _write_files(
    folder: Path,
    extracted: ExtractedPolicy,
    obs_dim: int,
    reference: ParityReference,
    config: ExportConfig,
) -> None:
    import intraday_rl.bundle.graph as graph

    graph.write_torchscript(extracted.module, obs_dim, folder / TORCHSCRIPT_FILE)
    graph.write_onnx(extracted.module, obs_dim, folder / ONNX_FILE, config.opset_version)
    if extracted.layers:
        graph.write_numpy_weights(extracted.numpy_weights, folder / NUMPY_FILE)
    n_rows = min(config.n_verification_observations, len(reference.observations))
    rows = np.unique(np.linspace(0, len(reference.observations) - 1, n_rows).round().astype(int))
    subset = ParityReference(
        reference.observations[rows], reference.actions[rows], reference.scores[rows]
    )
    save_reference(folder / VERIFICATION_FILE, subset)


def _verify_runtimes(
    folder: Path,
    reference: ParityReference,
    runtimes: tuple[RuntimeName, ...],
    feature_spec: FeatureSpec,
    layout: ObservationLayout,
    config: ExportConfig,
) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    results: dict[str, Any] = {}
    latency: dict[str, dict[str, Any]] = {}
    for name in runtimes:
        policy = runtime_class(name).load_bundle(
            folder, feature_spec=feature_spec, layout=layout, n_threads=None
        )
        actions, scores = policy.predict_with_scores(reference.observations)
        results[name] = compare_to_reference(
            reference,
            actions,
            scores,
            discrete=reference.actions.dtype.kind in "iu",
            atol=config.score_atol,
            rtol=config.score_rtol,
            runtime=name,
        )
        stats = policy.validate_prediction_latency(
            reference.observations[0], config.latency_trials, slo_us=config.latency_slo_us
        )
        latency[name] = dict(stats)
    fastest = latency[runtimes[0]]
    if config.require_latency_slo and not fastest["slo_pass"]:
        raise BundleVerificationError(
            f"latency: {runtimes[0]} p99 {fastest['p99_latency_us']} µs exceeds the objective "
            f"{fastest['slo_us']} µs (require_latency_slo is on)"
        )
    return results, latency
