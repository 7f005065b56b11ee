"""Adaptive gradient clipping against the paper's formula (NumPy), on an optimizer step, and on
two replicas, where it must clip the summed gradient."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from fresh_process import json_of_script
from keras_classics.training import agc


def numpy_agc(grad, weight, clipping, eps=1e-3):
    """Brock et al. 2021, section 4.1, per unit i (kernels: each output; vectors: whole):
    G_i <- lambda max(|W_i|, eps) G_i / |G_i| if |G_i| / max(|W_i|, eps) > lambda."""
    grad, weight = np.asarray(grad, np.float64), np.asarray(weight, np.float64)
    if grad.ndim <= 1:
        units = [(Ellipsis,)]
    else:
        units = [(Ellipsis, i) for i in range(grad.shape[-1])]
    out = grad.copy()
    for unit in units:
        g, w = grad[unit], weight[unit]
        limit = clipping * max(np.linalg.norm(w), eps)
        if np.linalg.norm(g) > limit:
            out[unit] = g * limit / np.linalg.norm(g)
    return out


@pytest.mark.parametrize("shape", [(3, 3, 4, 5), (6, 3), (7,), ()])
def test_clip_matches_the_formula(shape):
    rng = np.random.default_rng(0)
    weight = rng.normal(size=shape)
    # Some units far above the threshold, some below.
    grad = rng.normal(size=shape) * (0.02 if not shape else np.linspace(0.001, 0.05, shape[-1]))
    expected = numpy_agc(grad, weight, 0.01)
    out = agc.clip(tf.constant(grad), tf.constant(weight), 0.01).numpy()
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-15)
    assert not np.allclose(expected, grad)  # something was clipped


def test_a_zero_weight_uses_eps():
    grad = np.full((2, 3), 1.0)
    out = agc.clip(tf.constant(grad), tf.zeros((2, 3), tf.float64), 0.01).numpy()
    np.testing.assert_allclose(np.linalg.norm(out, axis=0), [1e-5] * 3, rtol=1e-12)


def test_enable_clips_every_weight_but_the_classifier_kernel():
    inputs = keras.Input((5,))
    x = keras.layers.Dense(4, name="hidden")(inputs)
    model = keras.Model(inputs, keras.layers.Dense(3, name="predictions")(x))
    opt = agc.enable(keras.optimizers.SGD(1.0), 0.01)
    rng = np.random.default_rng(1)
    grads = [rng.normal(size=v.shape).astype("float32") for v in model.trainable_variables]
    before = [v.numpy() for v in model.trainable_variables]
    opt.apply_gradients(zip([tf.constant(g) for g in grads], model.trainable_variables))
    for v, g, w in zip(model.trainable_variables, grads, before):
        step = w - v.numpy()
        expected = g if v.path == "predictions/kernel" else numpy_agc(g, w, 0.01)
        np.testing.assert_allclose(step, expected, rtol=1e-5, atol=1e-7, err_msg=v.path)
    assert not np.allclose(numpy_agc(grads[0], before[0], 0.01), grads[0])


@pytest.mark.parametrize("value", [0, -0.1, True, "0.01"])
def test_bad_clipping(value):
    with pytest.raises(ValueError, match=r"agc_clip=.* is invalid; accepted: a positive"):
        agc.enable(keras.optimizers.SGD(0.1), value)


TWO_REPLICAS = """
import json
import numpy as np
import keras
import tensorflow as tf
from keras_classics.training import agc, distribute
distribute.use_cpu_devices(2)
rng = np.random.default_rng(3)
x = rng.normal(size=(8, 5))
y = rng.normal(size=(8, 3)) * 5.0

def build():
    inputs = keras.Input((5,))
    h = keras.layers.Dense(4, name="hidden", dtype="float64")(inputs)
    out = keras.layers.Dense(3, name="predictions", dtype="float64")(h)
    model = keras.Model(inputs, out)
    model.set_weights([np.random.default_rng(4).normal(size=w.shape) for w in model.weights])
    return model

def gradients(model, xs, ys, batch=8):
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(tf.square(model(xs) - ys)) / batch
    return tape.gradient(loss, model.trainable_variables)

strategy = distribute.mirrored([d.name for d in tf.config.list_logical_devices("CPU")])
with strategy.scope():
    model = build()
    opt = agc.enable(keras.optimizers.SGD(1.0), 0.01)
    opt.build(model.trainable_variables)
w0 = [v.numpy() for v in model.trainable_variables]
data = tf.data.Dataset.from_tensor_slices((x, y)).batch(8)
xs, ys = next(iter(strategy.experimental_distribute_dataset(data)))

@tf.function
def step(a, b):
    opt.apply_gradients(zip(gradients(model, a, b), model.trainable_variables))

strategy.run(step, (xs, ys))
one = build()
full = [g.numpy() for g in gradients(one, tf.constant(x), tf.constant(y))]
halves = [[g.numpy() for g in gradients(one, tf.constant(x[i:i + 4]), tf.constant(y[i:i + 4]))]
          for i in (0, 4)]
print(json.dumps({
    "paths": [v.path for v in model.trainable_variables],
    "w0": [w.tolist() for w in w0],
    "step": [(w - v.numpy()).tolist() for w, v in zip(w0, model.trainable_variables)],
    "full": [g.tolist() for g in full],
    "halves": [[g.tolist() for g in h] for h in halves],
}))
"""


@pytest.mark.slow
def test_two_replicas_clip_the_summed_gradient():
    r = json_of_script(TWO_REPLICAS)
    per_replica_differs = False
    for i, path in enumerate(r["paths"]):
        w0, step, full = (np.array(r[k][i]) for k in ("w0", "step", "full"))
        halves = [np.array(h[i]) for h in r["halves"]]
        np.testing.assert_allclose(sum(halves), full, rtol=1e-12)  # the halves sum to it
        expected = full if path == "predictions/kernel" else numpy_agc(full, w0, 0.01)
        np.testing.assert_allclose(step, expected, rtol=1e-10, atol=1e-14, err_msg=path)
        # Clipping each replica's part before the sum would step elsewhere.
        per_replica = sum(numpy_agc(h, w0, 0.01) for h in halves)
        if path != "predictions/kernel":
            per_replica_differs |= not np.allclose(per_replica, expected, rtol=1e-3)
    assert per_replica_differs
