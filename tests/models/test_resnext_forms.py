"""ResNeXt Fig. 3: forms (a) aggregated paths, (b) early concatenation and (c) grouped
convolution are equivalent. With the weights of (c) split into paths, (a) and (b) give the
same outputs: the paper's claim, shown on single blocks of every kind ResNeXt uses (identity,
projection, strided) and once on the whole ResNeXt-50."""

import re

import keras
import numpy as np
import pytest

import keras_classics
from keras_classics.models.resnet import architecture as resnet

PATH = re.compile(r"(?P<block>.+)_path(?P<i>\d+)_(?P<unit>[123])_(?P<kind>conv|bn)$")


def split_weights(grouped, block, i, unit, kind, groups):
    """Path i's share of form (c)'s weights for layer `{block}_path{i}_{unit}_{kind}`."""
    i = int(i)
    weights = grouped.get_layer(f"{block}_{unit}_{kind}").get_weights()
    if unit == "3":  # form (a) only: the rows of the expanding 1x1 conv that read path i
        d = weights[0].shape[2] // groups
        return [weights[0][:, :, i * d : (i + 1) * d, :]]
    d = weights[0].shape[-1] // groups  # the output channels of path i
    return [w[..., i * d : (i + 1) * d] for w in weights]


def tie(grouped, other, groups):
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
        if isinstance(layer, keras.layers.BatchNormalization):
            gamma, beta, mean, var = layer.get_weights()
            layer.set_weights(
                [
                    rng.uniform(0.5, 1.5, gamma.shape),
                    rng.normal(0, 0.1, beta.shape),
                    rng.normal(0, 0.1, mean.shape),
                    rng.uniform(0.5, 2, var.shape),
                ]
            )


def assert_forms_agree(build, x, groups, rng, forms=("b", "a"), untied=True):
    """Form (c) with random BN statistics; `forms` tied to it give its outputs, an `untied`
    (b) does not (so the comparison can fail)."""
    grouped = build("c")
    randomise_bn_statistics(grouped, rng)
    expected = np.asarray(grouped(x, training=False))
    for form in forms:
        other = build(form)
        paths = {PATH.match(layer.name)["i"] for layer in other.layers if PATH.match(layer.name)}
        assert len(paths) == groups
        tie(grouped, other, groups)
        np.testing.assert_allclose(
            np.asarray(other(x, training=False)),
            expected,
            rtol=1e-4,
            atol=1e-4 * np.abs(expected).max(),
        )
    if untied:
        other = build("b")
        randomise_bn_statistics(other, rng)
        assert np.abs(np.asarray(other(x, training=False)) - expected).max() > 1e-3


# (input channels, planes, stride): ResNeXt-50's conv2_block2 (identity shortcut),
# conv2_block1 (projection: 64 -> 256 channels), conv3_block1 (stride 2 in the 3x3, v1.5).
BLOCKS = [(256, 64, 1), (64, 64, 1), (256, 128, 2)]


@pytest.mark.parametrize("channels,planes,stride", BLOCKS)
def test_block_forms_are_equivalent(channels, planes, stride):
    groups, width_per_group = 32, 4  # ResNeXt-50 32x4d

    def build(form):
        inputs = keras.Input((8, 8, channels))
        block = resnet.Block(
            planes=planes,
            stride=stride,
            name="conv3_block1",
            kind="bottleneck",
            groups=groups,
            width_per_group=width_per_group,
            shortcut="B",
            downsample_at="3x3",
            form=form,
        )
        return keras.Model(inputs, resnet.residual_block(inputs, block))

    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 8, 8, channels)).astype("float32")
    assert_forms_agree(build, x, groups, rng)


@pytest.mark.slow
def test_resnext50_forms_are_equivalent():
    """The builder's block_form reaches all 16 blocks: the whole net in form (b) (the blocks
    above show (a) too, and that untied weights differ)."""
    kwargs = dict(include_top=False, pooling="avg", input_shape=(32, 32, 3))
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 32, 32, 3)).astype("float32")
    assert_forms_agree(
        lambda form: keras_classics.ResNeXt50(block_form=form, **kwargs),
        x,
        32,
        rng,
        forms=("b",),
        untied=False,
    )
