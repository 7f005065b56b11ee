"""GlobalBatchNormalization against NumPy's batch statistics, one device and two replicas."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from fresh_process import json_of_script
from keras_classics.layers import GlobalBatchNormalization
from keras_classics.training import distribute


def numpy_batchnorm(x, gamma, beta, epsilon):
    """Training-mode batch normalisation (Ioffe & Szegedy 2015, Algorithm 1), in float64."""
    x = x.astype(np.float64)
    mean = x.mean(axis=(0, 1, 2))
    variance = x.var(axis=(0, 1, 2))
    return gamma * (x - mean) / np.sqrt(variance + epsilon) + beta, mean, variance


def test_training_normalises_by_the_batch_and_updates_the_moving_statistics():
    rng = np.random.default_rng(0)
    x = rng.normal(2.0, 3.0, (4, 5, 5, 6)).astype("float32")
    layer = GlobalBatchNormalization(momentum=0.9, epsilon=1e-3)
    layer.build(x.shape)
    gamma, beta = rng.normal(size=(2, 6)).astype("float32")
    layer.set_weights([gamma, beta, np.zeros(6, "float32"), np.ones(6, "float32")])
    out = np.asarray(layer(x, training=True))
    expected, mean, variance = numpy_batchnorm(x, gamma, beta, 1e-3)
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(layer.moving_mean.numpy(), 0.1 * mean, rtol=1e-5, atol=1e-6)
    # Keras keeps the population variance as its moving statistic, as the layer computes it.
    np.testing.assert_allclose(layer.moving_variance.numpy(), 0.9 + 0.1 * variance, rtol=1e-5)


def test_input_gradient_is_keras_batchnormalizations():
    rng = np.random.default_rng(1)
    x = tf.constant(rng.normal(size=(4, 3, 3, 5)))
    weights = tf.constant(rng.normal(size=(4, 3, 3, 5)))
    grads = []
    for layer in (
        GlobalBatchNormalization(dtype="float64"),
        keras.layers.BatchNormalization(dtype="float64"),
    ):
        layer.build(x.shape)
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = tf.reduce_sum(layer(x, training=True) * weights)
        grads.append(tape.gradient(loss, x).numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-9, atol=1e-12)
    assert np.abs(grads[0]).max() > 1e-2  # not a vanishing gradient passing by default


def test_config_round_trip_keeps_the_class_and_synchronized():
    layer = GlobalBatchNormalization(momentum=0.99, epsilon=1e-5, name="bn")
    restored = keras.layers.deserialize(keras.layers.serialize(layer))
    assert type(restored) is GlobalBatchNormalization and restored.synchronized
    assert (restored.momentum, restored.epsilon, restored.name) == (0.99, 1e-5, "bn")


def test_for_replicas_gives_it_every_batchnormalization_with_sync_batchnorm():
    inputs = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(4, 3, name="conv")(inputs)
    x = keras.layers.BatchNormalization(momentum=0.97, name="bn")(x)
    model = keras.Model(inputs, x)
    synced = distribute.for_replicas(model, sync_batchnorm=True)
    assert type(synced.get_layer("bn")) is GlobalBatchNormalization
    assert synced.get_layer("bn").momentum == 0.97
    plain = distribute.for_replicas(model, sync_batchnorm=False)
    assert type(plain.get_layer("bn")) is keras.layers.BatchNormalization


# A fresh process with the CPU split in two devices: the layer on two MirroredStrategy replicas,
# each with half of a float64 batch, prints its outputs and the input gradients of a weighted
# sum, with those of the same layer on the whole batch on one device.
TWO_REPLICAS = r"""
import json
import numpy as np
import tensorflow as tf
from keras_classics.layers import GlobalBatchNormalization
from keras_classics.training import distribute
distribute.use_cpu_devices(2)
rng = np.random.default_rng(2)
x = rng.normal(1.0, 2.0, (8, 3, 3, 4))
w = rng.normal(size=x.shape)

def step(layer, xs, ws):
    with tf.GradientTape() as tape:
        tape.watch(xs)
        y = layer(xs, training=True)
        loss = tf.reduce_sum(y * ws)
    return y, tape.gradient(loss, xs)

strategy = distribute.mirrored([d.name for d in tf.config.list_logical_devices("CPU")])
with strategy.scope():
    layer = GlobalBatchNormalization(dtype="float64")
    layer.build(x.shape)
data = tf.data.Dataset.from_tensor_slices((x, w)).batch(8)
xs, ws = next(iter(strategy.experimental_distribute_dataset(data)))
y, g = strategy.run(tf.function(lambda a, b: step(layer, a, b)), (xs, ws))
one = GlobalBatchNormalization(dtype="float64")
one.build(x.shape)
y1, g1 = step(one, tf.constant(x), tf.constant(w))
parts = lambda v: np.concatenate([t.numpy() for t in strategy.experimental_local_results(v)])
print(json.dumps({k: v.tolist() for k, v in
    {"y": parts(y), "g": parts(g), "y1": y1.numpy(), "g1": g1.numpy(), "x": x}.items()}))
"""


@pytest.mark.slow
def test_two_replicas_normalise_and_differentiate_as_one_device():
    r = {k: np.array(v) for k, v in json_of_script(TWO_REPLICAS).items()}
    expected, _, _ = numpy_batchnorm(r["x"], 1.0, 0.0, 1e-3)
    np.testing.assert_allclose(r["y"], expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(r["y"], r["y1"], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(r["g"], r["g1"], rtol=1e-10, atol=1e-12)
    # Each replica's half normalised by its own statistics would differ: the check can fail.
    half, _, _ = numpy_batchnorm(r["x"][:4], 1.0, 0.0, 1e-3)
    assert np.abs(half - expected[:4]).max() > 1e-2
