"""Assembling ``metadata.json`` for an export: versions, lineage, files, layout, action map."""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import math
import platform
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Final

from pydantic import ValidationError

from intraday_rl.bundle.normalization import ObservationNormalization, TrainingLineage
from intraday_rl.bundle.schema import (
    BUNDLE_FORMAT,
    BUNDLE_SCHEMA_VERSION,
    METADATA_FILE,
    ActingRules,
    AlgorithmInfo,
    BundleMetadata,
    FileRecord,
    ObservationInfo,
    ParityInfo,
    RuntimeName,
)
from intraday_rl.bundle.storage import file_record
from intraday_rl.features.config import FeatureSpec
from intraday_rl.features.layout import ObservationLayout
from intraday_rl.shared.config import format_validation_error
from intraday_rl.shared.errors import BundleExportError

if TYPE_CHECKING:
    from intraday_rl.bundle.graph import ExtractedPolicy

RECORDED_PACKAGES: Final = (
    "intraday-rl",
    "numpy",
    "torch",
    "onnx",
    "onnxruntime",
    "stable-baselines3",
    "sb3-contrib",
    "gymnasium",
    "pydantic",
)


def package_versions() -> dict[str, str]:
    """Return the Python version and the installed versions of :data:`RECORDED_PACKAGES`."""
    versions = {"python": platform.python_version()}
    for name in RECORDED_PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return versions


def finite_metrics(metrics: Mapping[str, float]) -> dict[str, float | None]:
    """Return metrics as floats, NaN / inf replaced by ``None`` (JSON has no NaN)."""
    cleaned: dict[str, float | None] = {}
    for key, value in metrics.items():
        number = float(value)
        cleaned[str(key)] = number if math.isfinite(number) else None
    return cleaned


def bundle_files(folder: Path) -> dict[str, FileRecord]:
    """Return the record of every file in ``folder`` except ``metadata.json``."""
    return {
        path.name: file_record(path)
        for path in sorted(folder.iterdir())
        if path.is_file() and path.name != METADATA_FILE
    }


def build_metadata(
    extracted: ExtractedPolicy,
    *,
    layout: ObservationLayout,
    feature_spec: FeatureSpec,
    normalization: ObservationNormalization | None,
    runtimes: tuple[RuntimeName, ...],
    files: dict[str, FileRecord],
    lineage: TrainingLineage,
    risk_policy_hash: str | None,
    validation_metrics: Mapping[str, float],
    parity: ParityInfo,
    rules: ActingRules | None = None,
) -> BundleMetadata:
    """Return the metadata of a bundle being exported (latency filled in after verification).

    Raises:
        BundleExportError: The arguments break a rule of the schema (e.g. a position level beyond
            ``rules.max_exposure``); the message names the field.
    """
    try:
        return BundleMetadata(
            schema_version=BUNDLE_SCHEMA_VERSION,
            format=BUNDLE_FORMAT,
            created_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            algorithm=AlgorithmInfo(
                name=extracted.algorithm,
                framework=extracted.framework,
                framework_version=extracted.framework_version,
                policy_class=extracted.policy_class,
                head=extracted.head,
                n_quantiles=extracted.n_quantiles,
                squash_output=extracted.module.squash_output,
                layers=extracted.layers,
            ),
            observation=ObservationInfo(shape=(layout.obs_dim,), layout=layout.to_dict()),
            feature_spec=feature_spec.model_dump(mode="json"),
            feature_spec_hash=feature_spec.spec_hash(),
            action=extracted.action,
            rules=rules,
            normalization=normalization,
            runtimes=runtimes,
            files=files,
            lineage=lineage,
            risk_policy_hash=risk_policy_hash,
            validation_metrics=finite_metrics(validation_metrics),
            parity=parity,
            latency_validation={},
            package_versions=package_versions(),
            integrity={},
        )
    except ValidationError as error:
        raise BundleExportError(format_validation_error(error, "bundle metadata")) from None
