"""Helpers of the export tests: small models, the Keras references, tolerances."""

import dataclasses

import keras
import numpy as np
import tensorflow as tf

import keras_classics
from keras_classics.data import eval_preprocess, eval_preprocess_jpeg
from keras_classics.export.signatures import outputs_probabilities

# Real photos of different shapes (scikit-image's bundled images).
PHOTOS = ("chelsea", "astronaut", "coffee", "rocket")


def tiny_classifier(classes=10, activation=None, size=32, name="tiny"):
    """A small Functional classifier (not a registry model) for the writer tests."""
    inputs = keras.Input((size, size, 3))
    x = keras.layers.Conv2D(8, 3, strides=2, name="conv1")(inputs)
    x = keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
    outputs = keras.layers.Dense(classes, activation=activation, name="predictions")(x)
    return keras.Model(inputs, outputs, name=name)


def keras_probabilities(model, x):
    """Softmax of the model's output when it ends in logits (what the export must give)."""
    x = tf.constant(np.asarray(x, np.float32))
    y = np.asarray(model([x] if isinstance(model.input, list) else x, training=False), np.float64)
    if outputs_probabilities(model):
        return y
    e = np.exp(y - y.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def preprocess_pixels(images, spec, size, crop_ratio=None):
    """The evaluation pipeline's input for each uint8 image (the reference preprocessing)."""
    return np.stack(
        [eval_preprocess(tf.constant(i), spec, size, crop_ratio).numpy() for i in images]
    )


def preprocess_bytes(items, spec, size, crop_ratio=None):
    return np.stack(
        [eval_preprocess_jpeg(tf.constant(b), spec, size, crop_ratio).numpy() for b in items]
    )


def log_difference(actual, expected, floor=1e-6):
    """Max |log p - log q| where both exceed `floor`: log-softmax differs from the logits by
    a per-row constant, so this bounds the logit difference (within a factor of 2) without
    the scale-down that comparing near-uniform probabilities brings. Classes below `floor`
    are left out: random-weight models at small inputs put logits 40 apart, and float32
    accumulation in two runtimes differs by ~1e-4 there (5e-6 relative) while moving those
    probabilities (1e-17) by nothing."""
    a, e = np.asarray(actual, np.float64), np.asarray(expected, np.float64)
    valid = (a > floor) & (e > floor)
    return float(np.abs(np.log(np.where(valid, a, 1)) - np.log(np.where(valid, e, 1))).max())


def assert_close(actual, expected, tol=1e-4):
    """Probabilities and log-probabilities within `tol`; returns both max differences."""
    dp = float(np.abs(np.asarray(actual, np.float64) - expected).max())
    dl = log_difference(actual, expected)
    assert dp <= tol and dl <= tol, (dp, dl)
    return dp, dl


def spec_with(name, **changes):
    return dataclasses.replace(keras_classics.get_spec(name), **changes)
