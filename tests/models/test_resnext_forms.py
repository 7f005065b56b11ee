"""ResNeXt Fig. 3: forms (a) aggregated paths, (b) early concatenation and (c) grouped
convolution are equivalent. With the weights of (c) split into paths, (a) and (b) give the
same outputs: the paper's claim, shown on the real ResNeXt-50."""

import re

import numpy as np
import pytest

import keras_classics

PATH = re.compile(r"(?P<block>.+)_path(?P<i>\d+)_(?P<unit>[123])_(?P<kind>conv|bn)$")


def split_weights(grouped, block, i, unit, kind, groups):
    """Path i's share of form (c)'s weights for layer `{block}_path{i}_{unit}_{kind}`."""
    i = int(i)
    weights = grouped.get_layer(f"{block}_{unit}_{kind}").get_weights()
    if unit == "3":  # form (a) only: the rows of the expanding 1x1 conv that read path i
        d = weights[0].shape[2] // groups
        return [weights[0][:, :, i * d:(i + 1) * d, :]]
    d = weights[0].shape[-1] // groups  # the output channels of path i
    return [w[..., i * d:(i + 1) * d] for w in weights]


def tie(grouped, other, groups=32):
    for layer in other.layers:
        if not layer.weights:
            continue
        match = PATH.match(layer.name)
        if match:
            layer.set_weights(split_weights(grouped, **match.groupdict(), groups=groups))
        else:
            layer.set_weights(grouped.get_layer(layer.name).get_weights())


def randomise_bn_statistics(model, rng):
    for layer in model.layers:
        if "bn" in layer.name:
            gamma, beta, mean, var = layer.get_weights()
            layer.set_weights([rng.uniform(0.5, 1.5, gamma.shape), rng.normal(0, .1, beta.shape),
                               rng.normal(0, .1, mean.shape), rng.uniform(0.5, 2, var.shape)])


@pytest.mark.slow
def test_block_forms_are_equivalent():
    rng = np.random.default_rng(0)
    kwargs = dict(include_top=False, pooling="avg", input_shape=(32, 32, 3))
    grouped = keras_classics.ResNeXt50(block_form="c", **kwargs)
    randomise_bn_statistics(grouped, rng)
    x = rng.normal(size=(2, 32, 32, 3)).astype("float32")
    expected = np.asarray(grouped(x, training=False))
    for form in ("b", "a"):
        other = keras_classics.ResNeXt50(block_form=form, **kwargs)
        paths = [l for l in other.layers if PATH.match(l.name)]
        assert len({PATH.match(l.name)["i"] for l in paths}) == 32
        tie(grouped, other)
        out = np.asarray(other(x, training=False))
        np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-4 * np.abs(expected).max())
    # The forms differ: untied weights give other outputs (the comparison can fail).
    fresh = keras_classics.ResNeXt50(block_form="b", **kwargs)
    assert np.abs(np.asarray(fresh(x, training=False)) - expected).max() > 1e-3
