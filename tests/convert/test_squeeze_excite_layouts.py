"""SqueezeExcite converted from torchvision's SqueezeExcitation (weights/torch_layout.py) and from
keras.applications' five-layer form (weights/keras_layout.py), compared on the same input."""

import keras
import numpy as np
import pytest

from convert_parity import TORCH_INSTALL, block_triton
from keras_classics.layers import SqueezeExcite
from keras_classics.weights import keras_layout, torch_layout

block_triton()


def test_converts_from_torchvision_squeeze_excitation():
    torch = pytest.importorskip("torch", reason=f"needs torch: {TORCH_INSTALL}")
    ops = pytest.importorskip("torchvision.ops", reason=f"needs torchvision: {TORCH_INSTALL}")
    torch.manual_seed(0)
    theirs = ops.SqueezeExcitation(16, 8, scale_activation=torch.nn.Hardsigmoid).eval()
    x = np.random.default_rng(2).normal(size=(2, 7, 7, 16)).astype("float32")
    ours = SqueezeExcite(8, gate="hard_sigmoid")
    ours.build(x.shape)
    # named as a timm or torchvision block holds it: "<block>.se.fc1.weight", ...
    state = {k: v.numpy() for k, v in torch.nn.ModuleDict({"se": theirs}).state_dict().items()}
    ours.set_weights([take(state) for take in torch_layout.takes(ours, "se")])
    with torch.no_grad():
        expected = theirs(torch.from_numpy(x.transpose(0, 3, 1, 2))).numpy().transpose(0, 2, 3, 1)
    np.testing.assert_allclose(np.asarray(ours(x)), expected, rtol=1e-5, atol=1e-6)


def test_converts_from_keras_applications_form():
    x = np.random.default_rng(3).normal(size=(2, 7, 7, 16)).astype("float32")
    inputs = keras.Input(x.shape[1:])
    s = keras.layers.GlobalAveragePooling2D(keepdims=True)(inputs)
    s = keras.layers.Conv2D(4, 1, activation="relu", name="se_conv")(s)
    s = keras.layers.Conv2D(16, 1, activation="hard_sigmoid", name="se_conv_1")(s)
    theirs = keras.Model(inputs, keras.layers.Multiply()([inputs, s]))
    for w in theirs.weights:
        w.assign(np.random.default_rng(4).normal(size=w.shape))
    state = {f"{layer.name}/{v.name}": v.numpy() for layer in theirs.layers for v in layer.weights}
    ours = SqueezeExcite(4, gate="hard_sigmoid")
    ours.build(x.shape)
    ours.set_weights(
        [take(state) for take in keras_layout.squeeze_excite_takes("se_conv", "se_conv_1")]
    )
    np.testing.assert_allclose(np.asarray(ours(x)), np.asarray(theirs(x)), rtol=1e-5, atol=1e-6)
