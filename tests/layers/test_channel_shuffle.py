"""ChannelShuffle against NumPy's 5-D reshape/transpose (ShuffleNet's and MXNet Reorder's
definition), its inverse, a save/load round trip and a TFLite graph without 5-D tensors."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_classics.layers import ChannelShuffle


def shuffle_reference(x, groups):
    """ShuffleNet section 3.1: reshape the channels to (groups, n), transpose, flatten. The
    authors' MXNet Reorder(branch_factor=groups) (IGC release, src/reorder-inl.h) does the
    same: reshape (C, HW) to (groups, C / groups, HW) and swap the first two axes."""
    n, h, w, c = x.shape
    return x.reshape(n, h, w, groups, c // groups).transpose(0, 1, 2, 4, 3).reshape(n, h, w, c)


X = np.random.default_rng(0).normal(size=(2, 3, 4, 24)).astype("float32")


@pytest.mark.parametrize("groups", [1, 2, 3, 4, 6, 8, 24])
def test_matches_numpy_reshape_transpose(groups):
    layer = ChannelShuffle(groups)
    out = np.asarray(layer(X))
    np.testing.assert_array_equal(out, shuffle_reference(X, groups))
    assert layer.compute_output_shape(X.shape) == out.shape


def test_interleaves_one_channel_of_every_group():
    # IGC: after the permutation, consecutive runs of L channels hold channel j of each
    # of the L primary groups (here L = 3 groups of M = 4: channel = 10 * group + index).
    x = np.array([10 * g + j for g in range(3) for j in range(4)], "float32").reshape(1, 1, 1, 12)
    out = np.asarray(ChannelShuffle(3)(x)).reshape(-1)
    np.testing.assert_array_equal(out, [0, 10, 20, 1, 11, 21, 2, 12, 22, 3, 13, 23])


@pytest.mark.parametrize("primary, secondary", [(4, 6), (6, 4), (2, 12), (24, 1)])
def test_shuffle_by_l_then_by_m_restores_the_order(primary, secondary):
    """IGC's permutation and its inverse: with channels = L * M, shuffling by L then by M is the
    identity (the block's "permute back")."""
    assert primary * secondary == X.shape[-1]
    back = ChannelShuffle(secondary)(ChannelShuffle(primary)(X))
    np.testing.assert_array_equal(np.asarray(back), X)
    if 1 < primary < X.shape[-1]:  # groups of 1 or of all channels leave the order
        assert not np.array_equal(np.asarray(ChannelShuffle(primary)(X)), X)


def test_keras_round_trip(tmp_path):
    inputs = keras.Input((3, 4, 24))
    model = keras.Model(inputs, ChannelShuffle(6, name="shuffle")(inputs))
    model.save(tmp_path / "m.keras")
    restored = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    assert isinstance(restored.get_layer("shuffle"), ChannelShuffle)
    assert restored.get_layer("shuffle").groups == 6
    np.testing.assert_array_equal(restored(X), model(X))


def test_tflite_builtins_without_5d_tensors():
    """A constant channel gather: TFLite builtins only, and no tensor of rank 5 (which the
    TFLite GPU delegate rejects)."""
    inputs = keras.Input((3, 4, 24), batch_size=1)
    model = keras.Model(inputs, ChannelShuffle(4)(inputs))
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]  # no Flex ops
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_content=converter.convert())
    interpreter.allocate_tensors()
    assert max(len(t["shape"]) for t in interpreter.get_tensor_details()) <= 4
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], X[:1])
    interpreter.invoke()
    out = interpreter.get_tensor(interpreter.get_output_details()[0]["index"])
    np.testing.assert_array_equal(out, shuffle_reference(X[:1], 4))


@pytest.mark.parametrize("groups", [0, -2, 2.0, True, "4"])
def test_bad_groups(groups):
    with pytest.raises(ValueError, match=f"groups={groups!r} is invalid; accepted"):
        ChannelShuffle(groups)


def test_channels_not_divisible():
    with pytest.raises(ValueError, match="cannot split 24 channels"):
        ChannelShuffle(5)(X)
