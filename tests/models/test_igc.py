"""IGC V1 against the authors' release: one interleaved group convolution against a NumPy
transcription of the release's MXNet operators (grouped Convolution, Reorder), the paper's
claim that the interleaving connects every input channel to every output channel, and the
networks' layers against the released symbol files (on the shared default builds)."""

import keras
import numpy as np
import pytest

from keras_classics.models import igc
from registry_params import built


def grouped_conv(x, kernel, groups):
    """NHWC grouped convolution, stride 1, 'same' padding (MXNet's pad = k // 2), float64:
    output group g reads input group g (MXNet's num_group, Keras' groups)."""
    k = kernel.shape[0]
    pad = k // 2
    x = np.pad(x.astype(np.float64), [(0, 0), (pad, pad), (pad, pad), (0, 0)])
    h, w = x.shape[1] - 2 * pad, x.shape[2] - 2 * pad
    cin, cout = kernel.shape[2], kernel.shape[3] // groups
    out = np.zeros((x.shape[0], h, w, kernel.shape[3]))
    for g in range(groups):
        xs = x[..., g * cin : (g + 1) * cin]
        ks = kernel[..., g * cout : (g + 1) * cout].astype(np.float64)
        for i in range(k):
            for j in range(k):
                out[..., g * cout : (g + 1) * cout] += xs[:, i : i + h, j : j + w] @ ks[i, j]
    return out


def reorder(x, branch_factor):
    """The release's MXNet Reorder (src/reorder-inl.h): the channels, as (branch_factor,
    C / branch_factor), swap axes."""
    c = x.shape[-1]
    return (
        x.reshape(*x.shape[:-1], branch_factor, c // branch_factor)
        .swapaxes(-1, -2)
        .reshape(x.shape)
    )


def build_unit(width, primary, size):
    """One interleaved group convolution of the family, up to its BN input (`_reorder2`)."""
    inputs = keras.Input((size, size, width))
    outputs = igc.igc(inputs, width, primary, 1, "u")
    model = keras.Model(inputs, outputs)
    return keras.Model(inputs, model.get_layer("u_reorder2").output)


@pytest.mark.parametrize("width, primary", [(12, 3), (12, 4), (8, 2), (6, 6)])
def test_unit_matches_the_release_operators(width, primary):
    """Convolution(3x3, num_group=L) -> Reorder(L) -> Convolution(1x1, num_group=M) ->
    Reorder(M), as the release's get_igc, M = width / L."""
    unit = build_unit(width, primary, 5)
    x = np.random.default_rng(0).normal(size=(2, 5, 5, width)).astype("float32")
    k1 = unit.get_layer("u_conv1").kernel.numpy()
    k2 = unit.get_layer("u_conv2").kernel.numpy()
    secondary = width // primary
    expected = reorder(
        grouped_conv(reorder(grouped_conv(x, k1, primary), primary), k2, secondary), secondary
    )
    np.testing.assert_allclose(np.asarray(unit(x)), expected, rtol=1e-4, atol=1e-4)


def test_interleaving_connects_every_input_channel_to_every_output():
    """The paper's interleaving: each secondary group takes one channel of every primary
    group, so the pair is dense across channels although each convolution is grouped; without
    the permutation the channel map would be block-diagonal. On a 1x1 map only the 3x3 kernels'
    centre taps act, and the unit is linear: the one-hot inputs give its channel matrix."""
    width, primary = 12, 3
    unit = build_unit(width, primary, 1)
    matrix = np.asarray(unit(np.eye(width, dtype="float32").reshape(width, 1, 1, width)))
    assert np.all(np.abs(matrix.reshape(width, width)) > 1e-7)
    without = np.asarray(
        grouped_conv(
            grouped_conv(
                np.eye(width).reshape(width, 1, 1, width),
                unit.get_layer("u_conv1").kernel.numpy(),
                primary,
            ),
            unit.get_layer("u_conv2").kernel.numpy(),
            width // primary,
        )
    ).reshape(width, width)
    assert np.count_nonzero(without) < width * width  # grouped twice without it: not dense


# From the released symbol files (models/*/*-symbol.json): layer -> (num_filter, num_group,
# kernel, stride) of the Convolutions, branch_factor of the Reorders; None: no such layer.
RELEASE = {
    "igc_l4m32": {
        "g0_conv": (128, 1, 7, 2),
        "g1_b1_conv1_conv1": (128, 4, 3, 1),
        "g1_b1_conv1_reorder1": 4,
        "g1_b1_conv1_conv2": (128, 32, 1, 1),
        "g1_b1_conv1_reorder2": 32,
        "g1_b1_proj_conv": None,
        "g2_b1_proj_conv": (256, 4, 1, 2),
        "g2_b1_conv1_conv1": (256, 4, 3, 2),
        "g2_b2_proj_conv": None,
        "g4_b2_conv2_conv2": (1024, 256, 1, 1),
        "g4_b2_conv2_reorder2": 256,
    },
    "igc_l16m16": {
        "g0_conv": (256, 1, 7, 2),
        "g1_b1_conv1_conv1": (256, 16, 3, 1),
        "g1_b1_conv1_conv2": (256, 16, 1, 1),
        "g1_b1_proj_conv": None,
        "g3_b1_proj_conv": (1024, 16, 1, 2),
        "g3_b1_conv1_conv2": (1024, 64, 1, 1),
        "g3_b1_conv1_reorder2": 64,
        "g4_b2_conv1_conv1": (2048, 16, 3, 1),
        "g4_b2_conv1_conv2": (2048, 128, 1, 1),
    },
    "igc_l100m2": {
        "g0_conv": (100, 1, 7, 2),
        "g1_b1_proj_conv": (200, 100, 1, 1),
        "g1_b1_conv1_conv1": (200, 100, 3, 1),
        "g1_b1_conv1_reorder1": 100,
        "g1_b1_conv1_conv2": (200, 2, 1, 1),
        "g1_b1_conv1_reorder2": 2,
        "g1_b2_proj_conv": None,
        "g2_b1_proj_conv": (400, 200, 1, 2),
        "g4_b1_conv1_conv1": (1600, 800, 3, 2),
        "g4_b2_conv2_conv2": (1600, 2, 1, 1),
    },
}


@pytest.mark.parametrize(
    "default_model,release", [built(n, RELEASE[n]) for n in RELEASE], indirect=["default_model"]
)
def test_layers_are_the_released_symbols(default_model, release):
    layers = {layer.name: layer for layer in default_model.model.layers}
    for name, expected in release.items():
        if expected is None:
            assert name not in layers, name
        elif isinstance(expected, int):
            assert layers[name].groups == expected, name
        else:
            layer = layers[name]
            kernel = tuple(layer.kernel.shape)
            got = (layer.filters, layer.groups, layer.kernel_size[0], layer.strides[0])
            assert got == expected, name
            assert kernel[2] * layer.groups == layers[name].input.shape[-1], name
