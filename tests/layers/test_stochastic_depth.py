"""StochasticDepth: whole examples' branches dropped in training, the identity at inference, the
same examples dropped on two replicas as on one device."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from fresh_process import json_of_script
from keras_classics.layers import StochasticDepth


def branch(batch, seed=0):
    return np.random.default_rng(seed).normal(size=(batch, 3, 3, 4)).astype("float32")


def test_inference_returns_the_input_unchanged():
    x = branch(8)
    layer = StochasticDepth(0.5)
    np.testing.assert_array_equal(np.asarray(layer(x)), x)
    np.testing.assert_array_equal(np.asarray(layer(x, training=False)), x)


@pytest.mark.parametrize("scale_by_keep, kept_factor", [(True, 1 / 0.75), (False, 1.0)])
def test_training_keeps_or_drops_each_examples_whole_branch(scale_by_keep, kept_factor):
    x = branch(4000)
    y = np.asarray(StochasticDepth(0.25, scale_by_keep=scale_by_keep, seed=3)(x, training=True))
    ratio = (y / x).reshape(len(x), -1)
    # One factor per example, shared by every element of its branch: 0 or the kept factor.
    np.testing.assert_allclose(ratio, ratio[:, :1] * np.ones_like(ratio), rtol=1e-6)
    factors = ratio[:, 0]
    dropped = np.isclose(factors, 0.0)
    kept = np.isclose(factors, kept_factor, rtol=1e-6)
    assert np.all(dropped | kept)
    # 4000 Bernoulli(0.25) draws: a standard deviation of 0.0068 around the rate.
    assert abs(dropped.mean() - 0.25) < 0.03


def test_the_masks_change_from_step_to_step():
    x = branch(64)
    layer = StochasticDepth(0.5, seed=1)
    first, second = (np.asarray(layer(x, training=True))[:, 0, 0, 0] == 0 for _ in range(2))
    assert (first != second).any()


@pytest.mark.parametrize("rate", [-0.1, 1.0, True, "0.2", None])
def test_a_rate_outside_zero_to_one_is_refused(rate):
    with pytest.raises(ValueError, match=rf"rate={rate!r} is invalid; accepted: a drop rate"):
        StochasticDepth(rate)


def test_scale_by_keep_must_be_a_bool():
    with pytest.raises(ValueError, match="scale_by_keep=1 is invalid; accepted: True or False"):
        StochasticDepth(0.1, scale_by_keep=1)


def test_a_model_with_it_saves_and_loads_safely_and_exports_no_random_op(tmp_path):
    inputs = keras.Input((3, 3, 4))
    x = keras.layers.Conv2D(4, 1, name="conv")(inputs)
    x = StochasticDepth(0.2, scale_by_keep=False, name="drop")(x)
    model = keras.Model(inputs, keras.layers.Add()([inputs, x]))
    path = str(tmp_path / "model.keras")
    model.save(path)
    restored = keras.saving.load_model(path, safe_mode=True)
    layer = restored.get_layer("drop")
    assert type(layer) is StochasticDepth
    assert (layer.rate, layer.scale_by_keep) == (0.2, False)
    x = branch(2)
    np.testing.assert_allclose(restored(x), model(x), rtol=0, atol=0)
    graph = (
        tf.function(lambda t: model(t, training=False))
        .get_concrete_function(tf.TensorSpec((None, 3, 3, 4)))
        .graph
    )
    assert not [op.type for op in graph.get_operations() if "Random" in op.type]


# A fresh process with the CPU split in two devices: the layer (seed 5) on two MirroredStrategy
# replicas, each with half of a batch of ones, prints its per-example factors, with those of the
# same layer on the whole batch on one device.
TWO_REPLICAS = r"""
import json
import numpy as np
import tensorflow as tf
from keras_classics.layers import StochasticDepth
from keras_classics.training import distribute
distribute.use_cpu_devices(2)
x = np.ones((64, 2, 2, 3), "float32")
strategy = distribute.mirrored([d.name for d in tf.config.list_logical_devices("CPU")])
with strategy.scope():
    layer = StochasticDepth(0.5, seed=5)
data = tf.data.Dataset.from_tensor_slices(x).batch(64)
xs = next(iter(strategy.experimental_distribute_dataset(data)))
y = strategy.run(tf.function(lambda a: layer(a, training=True)), (xs,))
one = StochasticDepth(0.5, seed=5)
y1 = tf.function(lambda a: one(a, training=True))(tf.constant(x))
parts = np.concatenate([t.numpy() for t in strategy.experimental_local_results(y)])
print(json.dumps({"two": parts[:, 0, 0, 0].tolist(), "one": y1.numpy()[:, 0, 0, 0].tolist()}))
"""


@pytest.mark.slow
def test_two_replicas_drop_the_examples_one_device_drops():
    factors = json_of_script(TWO_REPLICAS)
    two, one = np.array(factors["two"]), np.array(factors["one"])
    np.testing.assert_array_equal(two, one)
    assert set(np.unique(two)) == {0.0, 2.0}
    # Replicas drawing their own halves' masks from one seed would drop the same rows in both.
    assert (two[:32] != two[32:]).any()
