"""MobileNet's own options: the releases' channel rounding, the padding conventions and the
option checks (the counts, shapes and conversions are the registry-wide tests')."""

import keras
import pytest

import keras_classics
from keras_classics.models.mobilenet.units import make_divisible


def test_channel_rounding_is_the_releases():
    """keras.applications' own rule (its MobileNetV2 `_make_divisible`), independently."""
    from keras.src.applications.mobilenet_v2 import _make_divisible

    for value in [x / 4 for x in range(1, 4000)]:
        assert make_divisible(value) == _make_divisible(value, 8), value


def _padding_layers(model):
    return [layer for layer in model.layers if isinstance(layer, keras.layers.ZeroPadding2D)]


@pytest.mark.parametrize(
    "builder,strided,epsilon",
    [
        ("MobileNet", 5, 1e-5),  # conv1 and the four strided depthwise layers; timm's epsilon
        ("MobileNetV3Small", 5, 1e-3),  # conv and four strided bottlenecks; torchvision's
    ],
)
def test_torch_convention_pads_strided_convolutions_symmetrically(builder, strided, epsilon):
    """ "torch": an explicit k // 2 on every side before each strided conv; "tf" (default):
    TensorFlow's 'same' in the conv itself (the extra row and column after)."""
    build = getattr(keras_classics, builder)
    kwargs = dict(include_top=False, input_shape=(32, 32, 3))
    torch = build(convention="torch", **kwargs)
    pads = _padding_layers(torch)
    assert len(pads) == strided
    assert all(p.padding[0][0] == p.padding[0][1] for p in pads)  # symmetric
    assert {layer.epsilon for layer in torch.layers if hasattr(layer, "epsilon")} == {epsilon}
    assert not _padding_layers(build(**kwargs))


@pytest.mark.parametrize(
    "builder,options,pattern",
    [
        ("MobileNet", {"alpha": 0}, r"alpha=0 is invalid.*positive"),
        ("MobileNet", {"depth_multiplier": 1.5}, r"depth_multiplier=1.5 is invalid"),
        ("MobileNetV2", {"dropout": 1.0}, r"dropout=1.0 is invalid.*\[0, 1\)"),
        ("MobileNetV2", {"convention": "caffe"}, r"convention='caffe' is invalid.*'tf', 'torch'"),
        ("MobileNetV3Large", {"minimalistic": 1}, r"minimalistic=1 is invalid.*True or False"),
    ],
)
def test_bad_options_name_the_argument_and_what_is_accepted(builder, options, pattern):
    with pytest.raises(ValueError, match=pattern):
        getattr(keras_classics, builder)(**options)
