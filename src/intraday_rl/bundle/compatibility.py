"""Does a bundle's observation match what the running code builds?

A policy is only correct on observations laid out exactly as in training. Loading checks that the
running code reads the bundle's feature spec, computes the same hash for it, and builds the same
:class:`~intraday_rl.features.layout.ObservationLayout` from it; and, when the caller says which
spec and layout it will feed (execution does), that those are the bundle's.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from intraday_rl.bundle.schema import BundleMetadata
from intraday_rl.features.config import FeatureSpec
from intraday_rl.features.layout import ObservationLayout
from intraday_rl.shared.config import format_validation_error
from intraday_rl.shared.errors import BundleLayoutMismatchError


def bundle_feature_spec(metadata: BundleMetadata) -> FeatureSpec:
    """Return the bundle's feature spec as the running code reads it.

    Raises:
        BundleLayoutMismatchError: The running code cannot read the spec (e.g. another
            feature-formula version), or computes another hash for it.
    """
    try:
        spec = FeatureSpec.model_validate(metadata.feature_spec)
    except ValidationError as error:
        details = format_validation_error(error, "metadata.json feature_spec")
        raise BundleLayoutMismatchError(
            f"the bundle's feature spec is not one this code computes:\n{details}"
        ) from None
    actual = spec.spec_hash()
    if actual != metadata.feature_spec_hash:
        raise BundleLayoutMismatchError(
            f"feature_spec_hash: the bundle recorded {metadata.feature_spec_hash}, this code "
            f"computes {actual} for the same spec (feature formulas or hashing changed since "
            "export: retrain or use the intraday-rl version that exported it)"
        )
    return spec


def bundle_layout(metadata: BundleMetadata) -> ObservationLayout:
    """Rebuild the bundle's layout with the running code and check it matches the recorded one.

    Raises:
        BundleLayoutMismatchError: The rebuilt layout differs (names the fields that differ).
    """
    spec = bundle_feature_spec(metadata)
    recorded = metadata.observation.layout
    try:
        layout = ObservationLayout(
            spec.column_names, int(recorded["window"]), float(recorded["pnl_scale"])
        )
    except (KeyError, TypeError, ValueError) as error:
        raise BundleLayoutMismatchError(
            f"observation.layout: cannot rebuild the layout from {recorded!r}: {error}"
        ) from None
    _raise_on_differences("bundle", recorded, "this code", layout.to_dict())
    if metadata.observation.shape != (layout.obs_dim,):
        raise BundleLayoutMismatchError(
            f"observation.shape: the bundle recorded {metadata.observation.shape}, its layout "
            f"gives ({layout.obs_dim},)"
        )
    return layout


def check_compatibility(
    metadata: BundleMetadata,
    *,
    feature_spec: FeatureSpec | None = None,
    layout: ObservationLayout | None = None,
) -> ObservationLayout:
    """Check the bundle against the running code and, if given, the caller's spec and layout.

    Args:
        metadata: The bundle's metadata (already integrity-checked).
        feature_spec: The spec the caller computes features with (e.g. execution's).
        layout: The layout the caller builds observations with.

    Returns:
        The bundle's layout, rebuilt by the running code.

    Raises:
        BundleLayoutMismatchError: Any difference; the message names the differing fields.
    """
    bundle = bundle_layout(metadata)
    if feature_spec is not None and feature_spec.spec_hash() != metadata.feature_spec_hash:
        raise BundleLayoutMismatchError(
            _spec_difference(bundle_feature_spec(metadata), feature_spec)
        )
    if layout is not None:
        _raise_on_differences("bundle", bundle.to_dict(), "running layout", layout.to_dict())
    return bundle


def _spec_difference(bundle: FeatureSpec, running: FeatureSpec) -> str:
    ours, theirs = bundle.column_names, running.column_names
    head = (
        f"feature spec: the bundle was trained with spec {bundle.spec_hash()[:12]}, the running "
        f"code uses {running.spec_hash()[:12]}"
    )
    missing = [name for name in ours if name not in theirs]
    extra = [name for name in theirs if name not in ours]
    if missing or extra:
        return f"{head}: columns missing {missing}, unexpected {extra}"
    if ours != theirs:
        return f"{head}: same columns in another order (bundle {list(ours)})"
    changed = [
        f"{a.kind}: {_diff_fields(a.model_dump(), b.model_dump())}"
        for a, b in zip(bundle.features, running.features, strict=True)
        if a != b
    ]
    return f"{head}: parameters differ ({'; '.join(changed)})"


def _diff_fields(bundle: dict[str, Any], running: dict[str, Any]) -> str:
    return ", ".join(
        f"{key} bundle {bundle.get(key)!r} vs running {running.get(key)!r}"
        for key in sorted(set(bundle) | set(running))
        if bundle.get(key) != running.get(key)
    )


def _raise_on_differences(
    left_name: str, left: dict[str, Any], right_name: str, right: dict[str, Any]
) -> None:
    differences = [
        f"{key}: {left_name} {left.get(key)!r}, {right_name} {right.get(key)!r}"
        for key in sorted(set(left) | set(right))
        if left.get(key) != right.get(key)
    ]
    if differences:
        raise BundleLayoutMismatchError(
            "observation layout differs: " + "; ".join(differences) + " (the policy would read "
            "observations laid out differently from training: use the bundle's spec and window)"
        )
