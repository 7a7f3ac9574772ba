"""Pure parts of the bundle format: metadata integrity, parity tolerance, copies."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from intraday_rl.bundle import load_policy, read_bundle
from intraday_rl.bundle.parity import ParityReference, compare_to_reference
from intraday_rl.bundle.storage import _check_integrity, integrity_block
from intraday_rl.shared.errors import (
    BundleExportError,
    BundleMetadataEditedError,
    BundleVerificationError,
)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=4), children, max_size=3)
    ),
    max_leaves=8,
)
metadata_dicts = st.dictionaries(st.text(min_size=1, max_size=6), json_values, min_size=1)


@settings(max_examples=60, deadline=None)
@given(fields=metadata_dicts, data=st.data())
def test_any_changed_top_level_value_is_detected_and_named(fields, data):
    raw = {**fields, "integrity": integrity_block(fields)}
    round_tripped = json.loads(json.dumps(raw))
    _check_integrity(round_tripped, "metadata.json")  # JSON round trip is not an edit
    name = data.draw(st.sampled_from(sorted(fields)))
    new_value = data.draw(json_values.filter(lambda value: value != fields[name]))
    edited = {**round_tripped, name: new_value}
    with pytest.raises(BundleMetadataEditedError, match=re.escape(f"field {name!r} was edited")):
        _check_integrity(json.loads(json.dumps(edited)), "metadata.json")


def _reference(scores, actions):
    scores = np.asarray(scores, dtype=np.float32)
    observations = np.zeros((len(scores), 2), dtype=np.float32)
    return ParityReference(observations, np.asarray(actions), scores)


def test_a_near_tie_may_break_either_way():
    reference = _reference([[1.0, 1.0 + 1e-6, 0.0], [0.0, 2.0, 1.0]], [1, 1])
    parity = compare_to_reference(
        reference,
        np.array([0, 1]),
        reference.scores,
        discrete=True,
        atol=1e-4,
        rtol=1e-4,
        runtime="test",
    )
    assert parity.n_action_mismatches == 1


def test_a_clear_preference_may_not():
    reference = _reference([[1.0, 1.5, 0.0]], [1])
    with pytest.raises(BundleVerificationError, match=r"test: actions differ .* SB3 1, runtime 0"):
        compare_to_reference(
            reference,
            np.array([0]),
            reference.scores,
            discrete=True,
            atol=1e-4,
            rtol=1e-4,
            runtime="test",
        )


def test_scores_beyond_tolerance_fail_even_when_actions_agree():
    reference = _reference([[1.0, 2.0]], [1])
    with pytest.raises(BundleVerificationError, match=r"scores differ .* row 0"):
        compare_to_reference(
            reference,
            np.array([1]),
            reference.scores + np.float32(0.01),
            discrete=True,
            atol=1e-4,
            rtol=1e-4,
            runtime="test",
        )


def test_save_bundle_copies_a_verified_bundle_atomically(bundles, tmp_path):
    policy = load_policy(bundles["PPO"])
    copy = policy.save_bundle(tmp_path / "copy")
    assert read_bundle(copy).metadata == policy.metadata
    with pytest.raises(BundleExportError, match="already exists"):
        policy.save_bundle(copy)
    assert policy.save_bundle(copy, overwrite=True) == copy
    assert sorted(path.name for path in tmp_path.iterdir()) == ["copy"]
