"""SENet as columns of the ResNet table (Hu et al. 2018): where the squeeze-excitation sits in
a block (Fig. 3), SENet-154's appendix changes, and the `pool1="ceil"` option against a NumPy
ceil-mode max pool (Caffe's, the authors' releases). Small headless builds: the structure does
not depend on the depth or the input size."""

import keras
import numpy as np
import pytest

import keras_classics
from keras_classics.layers import SqueezeExcite

SMALL = dict(include_top=False, depths=(1, 1, 1, 1), input_shape=(64, 64, 3))


def producer(tensor):
    return tensor._keras_history.operation


def test_the_excitation_rescales_the_branch_after_its_last_bn_before_the_addition():
    model = keras_classics.SEResNeXt50(**SMALL)
    for stage in (2, 3, 4, 5):
        block = f"conv{stage}_block1"
        se = model.get_layer(f"{block}_se")
        assert isinstance(se, SqueezeExcite)
        assert producer(se.input) is model.get_layer(f"{block}_3_bn")
        add = model.get_layer(f"{block}_add")
        assert producer(add.input[1]) is se
        # r = 16 of the block's output channels (Table 1): 256 -> 16 ... 2048 -> 128.
        channels = se.input.shape[-1]
        assert se.reduced_channels == channels // 16 == 16 * 2 ** (stage - 2)
        assert (se.activation, se.gate) == ("relu", "sigmoid")


def test_senet154_has_the_appendix_stem_bottlenecks_and_projections():
    model = keras_classics.SENet154(**SMALL)
    widths = [model.get_layer(f"conv1_{i}_conv").filters for i in (1, 2, 3)]
    assert widths == [64, 64, 128]
    assert model.get_layer("conv1_1_conv").strides == (2, 2)
    # The first 1x1 halved: 2p channels, then the 64-group 3x3 widens to 4p (p = 64 ... 512).
    for stage, planes in zip((2, 3, 4, 5), (64, 128, 256, 512)):
        assert model.get_layer(f"conv{stage}_block1_1_conv").filters == 2 * planes
        assert model.get_layer(f"conv{stage}_block1_2_conv").filters == 4 * planes
        projection = model.get_layer(f"conv{stage}_block1_0_conv")
        # 3x3 stride-2 projections where the block strides; conv2's stays 1x1.
        assert projection.kernel_size == ((1, 1) if stage == 2 else (3, 3))
    head = keras_classics.SENet154(depths=(1, 1, 1, 1), input_shape=(64, 64, 3), classes=10)
    assert head.get_layer("avg_pool_drop").rate == 0.2


def ceil_max_pool(x):
    """3x3/2 max pool with the output size rounded up and no padding (Caffe; torch's
    ceil_mode=True), NHWC."""
    n, h, w, c = x.shape
    out_h, out_w = -(-(h - 3) // 2) + 1, -(-(w - 3) // 2) + 1
    out = np.empty((n, out_h, out_w, c), x.dtype)
    for i in range(out_h):
        for j in range(out_w):
            out[:, i, j] = x[:, 2 * i : 2 * i + 3, 2 * j : 2 * j + 3].max(axis=(1, 2))
    return out


@pytest.mark.parametrize("size", [64, 67])
def test_ceil_pool1_is_caffes_max_pool(size):
    model = keras_classics.ResNet50(pool1="ceil", **{**SMALL, "input_shape": (size, size, 3)})
    probe = keras.Model(
        model.inputs[0],
        [model.get_layer("conv1_relu").output, model.get_layer("pool1_pool").output],
    )
    x = np.random.default_rng(0).uniform(-1, 1, (2, size, size, 3)).astype("float32")
    conv1, pooled = (np.asarray(t) for t in probe(x))
    np.testing.assert_array_equal(pooled, ceil_max_pool(conv1))


@pytest.mark.parametrize(
    "builder,value,pattern",
    [
        (keras_classics.ResNet50, "floor", r"pool1='floor' .*\('padded', 'ceil'\)"),
        (keras_classics.ResNet20_CIFAR, "ceil", r"pool1='ceil' .*cifar.*\('padded',\)"),
    ],
)
def test_bad_pool1_is_refused(builder, value, pattern):
    with pytest.raises(ValueError, match=pattern):
        builder(pool1=value)
