"""What MobileNet v1, v2 and v3 share: the width rounding, the two padding and BatchNorm
conventions of their releases, and the conv + BN + activation unit they are made of; and the
MBConv block that MnasNet and EfficientNet build from MobileNetV2's inverted residual."""

import dataclasses

import keras

from keras_classics.layers.conv import Conv2D
from keras_classics.layers.squeeze_excite import SqueezeExcite
from keras_classics.layers.stochastic_depth import StochasticDepth

MOBILENET_V1_PAPER = "Howard et al. 2017, MobileNets, Table 1"
MOBILENET_V2_PAPER = "Sandler et al. 2018, MobileNetV2, Table 2"
MOBILENET_V3_PAPER = "Howard et al. 2019, Searching for MobileNetV3"


def make_divisible(value, divisor=8, min_value=None):
    """The releases' channel rounding (TF-slim's `_make_divisible`, keras.applications'
    `_depth`, torchvision's `_make_divisible`): the nearest multiple of `divisor`, at least
    `min_value` (default `divisor`), never below 90% of `value`."""
    min_value = divisor if min_value is None else min_value
    rounded = max(min_value, int(value + divisor / 2) // divisor * divisor)
    return rounded + divisor if rounded < 0.9 * value else rounded


@dataclasses.dataclass(frozen=True)
class Convention:
    """How a release pads strided convolutions and what its BatchNorm uses.

    tf: TensorFlow's 'same' padding, which pads a strided convolution asymmetrically (the
      extra row and column after: TF-slim, the papers' own code, and keras.applications,
      whose ZeroPadding2D(`correct_pad`) + 'valid' is the same at the sizes it accepts).
    torch: k // 2 on every side (torchvision, timm's non-"tf_" models).
    The BN epsilon and momentum (Keras' momentum = 1 - torch's) are each release's own.
    """

    name: str
    symmetric: bool
    epsilon: float
    momentum: float


CONVENTIONS = ("tf", "torch")


def check_convention(convention):
    if convention not in CONVENTIONS:
        raise ValueError(f"convention={convention!r} is invalid; accepted: {CONVENTIONS}.")
    return convention


def check_alpha(alpha, released):
    """Any positive width multiplier, as keras.applications (weights exist for `released`)."""
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or alpha <= 0:
        raise ValueError(
            f"alpha={alpha!r} is invalid; accepted: a positive number (released weights: "
            f"{released})."
        )


def check_dropout(dropout):
    if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0 <= dropout < 1:
        raise ValueError(f"dropout={dropout!r} is invalid; accepted: a number in [0, 1).")


def pad(x, kernel, stride, convention, name):
    """(x, padding) for a k x k convolution: explicit symmetric padding for a strided one in
    the torch convention, else TensorFlow's 'same' (symmetric for stride 1 and odd k)."""
    if stride > 1 and convention.symmetric:
        return keras.layers.ZeroPadding2D(kernel // 2, name=f"{name}_pad")(x), "valid"
    return x, "same"


def activation(x, kind, name):
    """ReLU6 (v1, v2), ReLU or hard-swish (v3, section 5.2) as a named layer."""
    if kind == "relu6":
        return keras.layers.ReLU(6.0, name=name)(x)
    if kind == "relu":
        return keras.layers.ReLU(name=name)(x)
    return keras.layers.Activation(kind, name=name)(x)


def conv_bn(x, filters, kernel, stride, convention, conv_name, bn_name, act, act_name):
    """conv (no bias) + BN [+ activation `act`, None for the linear bottleneck]."""
    x, padding = pad(x, kernel, stride, convention, conv_name)
    x = Conv2D(filters, kernel, strides=stride, padding=padding, use_bias=False, name=conv_name)(x)
    x = batch_norm(x, convention, bn_name)
    return activation(x, act, act_name) if act else x


def depthwise_bn(x, kernel, stride, convention, conv_name, bn_name, act, act_name, multiplier=1):
    """Depthwise k x k conv (no bias) + BN + activation.

    keras.layers.DepthwiseConv2D: on a CPU training step of MobileNetV2-like layers it was
    the fastest of DepthwiseConv2D, GroupConv2D(groups=C) and torch (docs/models/mobilenet.md,
    "Depthwise convolution"; benchmarks/bench_depthwise.py).
    """
    x, padding = pad(x, kernel, stride, convention, conv_name)
    x = keras.layers.DepthwiseConv2D(
        kernel,
        strides=stride,
        padding=padding,
        depth_multiplier=multiplier,
        use_bias=False,
        name=conv_name,
    )(x)
    x = batch_norm(x, convention, bn_name)
    return activation(x, act, act_name)


def batch_norm(x, convention, name):
    return keras.layers.BatchNormalization(
        epsilon=convention.epsilon, momentum=convention.momentum, name=name
    )(x)


# Squeeze-and-excitation width of an MBConv block: a quarter of the block's *input* channels
# (MnasNet's search space, Tan et al. 2019 section 4.1, and the se_ratio of its and
# EfficientNet's releases).
SE_RATIO = 0.25


def mbconv(x, *, expansion, filters, kernel, stride, convention, act, se_act, drop_rate, prefix):
    """The MBConv block (MnasNet, Tan et al. 2019 Figure 7; EfficientNet, Tan & Le 2019
    Table 1): 1x1 expansion to the input's channels x `expansion` (none at 1), k x k depthwise
    (strided in a stage's first block), squeeze-and-excitation of SE_RATIO x the input channels
    with `se_act` (None: no SE), 1x1 linear projection; where the shapes agree the input is
    added (MobileNetV2's inverted residual, Sandler et al. 2018 Figure 4b), after stochastic
    depth at `drop_rate` (EfficientNet's drop connect, section 5.2)."""
    inputs = x
    in_channels = x.shape[-1]
    if expansion != 1:
        x = conv_bn(
            x,
            in_channels * expansion,
            1,
            1,
            convention,
            f"{prefix}expand_conv",
            f"{prefix}expand_bn",
            act,
            f"{prefix}expand_activation",
        )
    x = depthwise_bn(
        x, kernel, stride, convention, f"{prefix}dwconv", f"{prefix}bn", act, f"{prefix}activation"
    )
    if se_act:
        squeeze = max(1, int(in_channels * SE_RATIO))
        x = SqueezeExcite(squeeze, activation=se_act, gate="sigmoid", name=f"{prefix}se")(x)
    x = conv_bn(
        x, filters, 1, 1, convention, f"{prefix}project_conv", f"{prefix}project_bn", None, None
    )
    if stride == 1 and in_channels == filters:
        if drop_rate > 0:
            x = StochasticDepth(drop_rate, name=f"{prefix}drop")(x)
        x = keras.layers.Add(name=f"{prefix}add")([x, inputs])
    return x
