"""ShuffleNet v1 and v2.

v1: Zhang, Zhou, Lin & Sun, "ShuffleNet: An Extremely Efficient Convolutional Neural Network
for Mobile Devices", CVPR 2018: Table 1 (the body, stage widths per group count g), Fig. 2
(the units), section 3.3 (the scale factor s, "ShuffleNet s x").
v2: Ma, Zhang, Zheng & Sun, "ShuffleNet V2: Practical Guidelines for Efficient CNN
Architecture Design", ECCV 2018: Table 5 (the body at 0.5x ... 2x), Fig. 3(c, d) (the units),
as torchvision's shufflenetv2.py builds them.

Both are a 3x3/2 conv of 24 and a 3x3/2 max pool, three stages of units whose first unit
strides (4, 8 and 4 units: `depths`), global average pooling and the classifier; v2 adds a
1x1 conv (conv5) before the pool. The channel shuffle is ChannelShuffle (a constant 4-D
gather, no 5-D reshape: keras_classics/layers/channel_shuffle.py), v2's channel split
ChannelSplit. Layer names: conv1, pool1, stage{2,3,4}_{unit} (the unit's index from 1) with
the unit's parts, conv5 (v2).
"""

import dataclasses
import math
import re

import keras

from keras_classics.layers import ChannelShuffle, ChannelSplit
from keras_classics.models import _core, _heads

# He normal over the fan-out (a depthwise kernel's fan-out is its 3x3 window): neither paper
# says how it initialises.
from keras_classics.models._units import he_normal
from keras_classics.models._units import padded_conv as conv

# torch_layout.takes and the depthwise kernel's layout, as MobileNet's torchvision rows read it.
from keras_classics.models.mobilenet.weights import torch_takes
from keras_classics.records.augmentation import Augmentation
from keras_classics.records.recipe import Recipe
from keras_classics.records.registry import ReplicaCheck
from keras_classics.weights import cards, conversion, torch_layout

V1_PAPER = "Zhang et al. 2018, ShuffleNet, Table 1"
V2_PAPER = "Ma et al. 2018, ShuffleNet V2, Table 5"

# torch's BatchNorm2d defaults (eps 1e-5, momentum 0.1 = Keras' 0.9): megvii's release and
# torchvision's.
BN = dict(epsilon=1e-5, momentum=0.9)
# The units of each stage (Table 1 and Table 5: "Repeat" 1 + 3, 1 + 7, 1 + 3).
DEPTHS = (4, 8, 4)
STEM = 24
# Five stride-2 steps (conv1, pool1, each stage's first unit): 32 gives a 1x1 final map.
MIN_SIZE = 32


def bn(x, name, relu=False):
    x = keras.layers.BatchNormalization(**BN, name=f"{name}_bn")(x)
    return keras.layers.ReLU(name=f"{name}_relu")(x) if relu else x


def conv_bn(x, filters, kernel, stride, name, groups=1, relu=True):
    """A conv without bias (`{name}_conv`, symmetric padding when strided) + BN [+ ReLU]."""
    return bn(conv(x, filters, kernel, stride, name, groups), name, relu)


def depthwise_bn(x, stride, name):
    """A 3x3 depthwise conv (padded by 1 on every side, as torch's padding=1) + BN, no
    activation (v1 Fig. 2: "DWConv, BN"; v2 Fig. 3 likewise)."""
    padding = "same"
    if stride > 1:
        x = keras.layers.ZeroPadding2D(1, name=f"{name}_pad")(x)
        padding = "valid"
    x = keras.layers.DepthwiseConv2D(
        3,
        strides=stride,
        padding=padding,
        use_bias=False,
        depthwise_initializer=he_normal("fan_out"),
        name=f"{name}_conv",
    )(x)
    return bn(x, name)


def stem(x, filters):
    """conv1 (3x3/2, BN, ReLU) and pool1 (3x3/2 max pool, padded by 1)."""
    x = conv_bn(x, filters, 3, 2, "conv1")
    endpoints = {"conv1": x}
    # Its input follows a ReLU (>= 0): zero padding pools as torch's padded max pool.
    x = keras.layers.ZeroPadding2D(1, name="pool1_pad")(x)
    endpoints["pool1"] = keras.layers.MaxPooling2D(3, strides=2, name="pool1")(x)
    return endpoints


def check_depths(depths):
    return _core.check_depths(depths, DEPTHS)


# --- v1 ------------------------------------------------------------------------------------

# Table 1: the output channels of Stage2 for each number of groups g (Stage3 and Stage4
# double it).
V1_WIDTHS = {1: 144, 2: 200, 3: 240, 4: 272, 8: 384}


@dataclasses.dataclass(frozen=True)
class V1Config:
    """One ShuffleNet v1: a column of Table 1 (g) and the options of one build."""

    groups: int
    alpha: float = 1.0
    stem_filters: int = STEM
    depths: tuple = DEPTHS

    @property
    def widths(self):
        """Stage2 ... Stage4's output channels at scale alpha."""
        return tuple(round(V1_WIDTHS[self.groups] * self.alpha) * 2**k for k in range(3))


def v1_unit(x, filters, stride, groups, first_groups, name):
    """Fig. 2(b) (stride 1) and 2(c) (stride 2): 1x1 group conv (`gconv1`, BN, ReLU), channel
    shuffle, 3x3 depthwise conv (`dwconv`, BN), 1x1 group conv (`gconv2`, BN); added to the
    input (stride 1), or concatenated after a 3x3/2 average pool of the input (`pool`, stride
    2), then ReLU. The bottleneck is a quarter of the stage's output channels (section 3.3);
    a strided unit's branch gives the output channels less the input's.

    `first_groups`: the first 1x1 conv's groups (1 in Stage2's first unit: "we do not apply
    group convolution on the first pointwise layer because the number of input channels is
    relatively small", section 3.3)."""
    inputs = x
    branch = filters - x.shape[-1] if stride > 1 else filters
    x = conv_bn(x, filters // 4, 1, 1, f"{name}_gconv1", groups=first_groups)
    if groups > 1:
        x = ChannelShuffle(groups, name=f"{name}_shuffle")(x)
    x = depthwise_bn(x, stride, f"{name}_dwconv")
    x = conv_bn(x, branch, 1, 1, f"{name}_gconv2", groups=groups, relu=False)
    if stride > 1:
        # torch's AvgPool2d(3, 2, padding=1) counts the padding (count_include_pad, the
        # release's and osmr/imgclsmob's). The shortcut comes first, as megvii's release
        # concatenates (the paper does not say).
        shortcut = keras.layers.ZeroPadding2D(1, name=f"{name}_pool_pad")(inputs)
        shortcut = keras.layers.AveragePooling2D(3, strides=2, name=f"{name}_pool")(shortcut)
        x = keras.layers.Concatenate(name=f"{name}_concat")([shortcut, x])
    else:
        x = keras.layers.Add(name=f"{name}_add")([inputs, x])
    return keras.layers.ReLU(name=f"{name}_relu")(x)


def v1_body(x, config):
    """conv1 (24 filters at 1x), pool1, Stage2 ... Stage4 (Table 1)."""
    endpoints = stem(x, config.stem_filters)
    x = endpoints["pool1"]
    for stage, (filters, depth) in enumerate(zip(config.widths, config.depths), start=2):
        for index in range(1, depth + 1):
            first = stage == 2 and index == 1
            x = v1_unit(
                x,
                filters,
                2 if index == 1 else 1,
                config.groups,
                1 if first else config.groups,
                f"stage{stage}_{index}",
            )
        endpoints[f"stage{stage}"] = x
    return endpoints


def default_stem(groups, alpha):
    """24 x s (section 3.3 scales every layer's filters), rounded up to a multiple of g so
    that Stage2's first branch (its width less the stem's) splits into g groups: 12, 24, 36,
    48 at 0.5x ... 2x for g = 1, 2, 3, 4 (g = 8: 16 at 0.5x, as megvii's release; 40 at 1.5x)."""
    return math.ceil(STEM * alpha / groups) * groups


def _check_v1_options(alpha, stem_filters, classifier_bias):
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or alpha <= 0:
        raise ValueError(
            f"alpha={alpha!r} is invalid; accepted: a positive number (section 3.3's scale "
            "factor s: 0.25, 0.5, 1, 1.5, 2)."
        )
    if stem_filters is not None and (
        isinstance(stem_filters, bool) or not isinstance(stem_filters, int) or stem_filters < 1
    ):
        raise ValueError(
            f"stem_filters={stem_filters!r} is invalid; accepted: None (24 x alpha, rounded up "
            "to a multiple of the groups) or a positive integer."
        )
    if not isinstance(classifier_bias, bool):
        raise ValueError(
            f"classifier_bias={classifier_bias!r} is invalid; accepted: True or False."
        )


def _check_v1_widths(config):
    """Every group conv's input and output channels, and so the bottlenecks, in g groups."""
    g, widths = config.groups, config.widths
    first_branch = widths[0] - config.stem_filters
    sizes = {w // 4 for w in widths} | set(widths) | {first_branch}
    if any(w % 4 for w in widths) or any(s < 1 or s % g for s in sizes):
        raise ValueError(
            f"alpha={config.alpha!r} with stem_filters={config.stem_filters} gives stage widths "
            f"{widths} and a first branch of {first_branch}, which do not split into {g} "
            f"groups (bottlenecks of a quarter of each width); accepted: an alpha and "
            f"stem_filters whose widths, their quarters and Stage2's width less the stem are "
            f"positive multiples of {g} (alpha 0.5, 1, 1.5 or 2 for g = 3 and 8)."
        )


def v1_configure(row, *, alpha, stem_filters, classifier_bias, depths):
    _check_v1_options(alpha, stem_filters, classifier_bias)
    if stem_filters is None:
        stem_filters = default_stem(row.groups, alpha)
    config = dataclasses.replace(
        row, alpha=alpha, stem_filters=stem_filters, depths=check_depths(depths)
    )
    _check_v1_widths(config)
    return _core.Architecture(
        config,
        default_size=224,
        min_size=MIN_SIZE,
        head=_heads.pool_head(classifier_bias=classifier_bias),
    )


DEPTHS_OPTION = _core.Option(
    "depths",
    None,
    "Units in Stage2 ... Stage4 (each stage's first strides; the tables' (4, 8, 4) when "
    "None), e.g. (1, 1, 1).",
)
V1_OPTIONS = (
    _core.Option(
        "alpha",
        1.0,
        "Scale factor s of every layer's channels (section 3.3, 'ShuffleNet s x'; Table 2 has "
        "0.5x and 0.25x, megvii's release 0.5x, 1.5x and 2x).",
    ),
    _core.Option(
        "stem_filters",
        None,
        "conv1's filters: None for 24 x alpha rounded up to a multiple of g (the paper's "
        "scaling, and megvii's release at 0.5x, 1x and 2x); megvii's 1.5x models have 24.",
    ),
    _core.Option(
        "classifier_bias",
        True,
        "The classifier's bias: the paper's FC (and osmr/imgclsmob's) has one, megvii's "
        "release has none (False).",
    ),
    DEPTHS_OPTION,
)


def v1_summary(row):
    widths = "/".join(str(w) for w in row.widths)
    return (
        f"ShuffleNet 1x (g = {row.groups}): Table 1's stages of {widths} channels, "
        f"{sum(row.depths)} ShuffleNet units with {row.groups}-group pointwise convolutions "
        "and channel shuffles, scale factor alpha.\n\n"
        "224x224 input, 3x3 conv stem of 24 filters, global average pooling head."
    )


# --- v2 ------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class V2Config:
    """One ShuffleNet v2: a column of Table 5 and the options of one build."""

    widths: tuple  # Stage2 ... Stage4's output channels
    last: int  # conv5's
    depths: tuple = DEPTHS


def v2_unit(x, filters, stride, name):
    """Fig. 3(c) (stride 1): the input's channels split in halves, the second half through
    1x1 conv (`branch2_conv1`, BN, ReLU), 3x3 depthwise conv (`branch2_dwconv`, BN), 1x1 conv
    (`branch2_conv2`, BN, ReLU), concatenated after the first half; Fig. 3(d) (stride 2): no
    split, the first half is a strided 3x3 depthwise conv (`branch1_dwconv`, BN) and a 1x1
    conv (`branch1_conv`, BN, ReLU) of the input, the second the same branch, strided. Each
    half is half the output; then a channel shuffle of 2 groups."""
    half = filters // 2
    if stride > 1:
        left = depthwise_bn(x, stride, f"{name}_branch1_dwconv")
        left = conv_bn(left, half, 1, 1, f"{name}_branch1_conv")
        right = x
    else:
        left, right = ChannelSplit((half, half), name=f"{name}_split")(x)
    right = conv_bn(right, half, 1, 1, f"{name}_branch2_conv1")
    right = depthwise_bn(right, stride, f"{name}_branch2_dwconv")
    right = conv_bn(right, half, 1, 1, f"{name}_branch2_conv2")
    x = keras.layers.Concatenate(name=f"{name}_concat")([left, right])
    return ChannelShuffle(2, name=f"{name}_shuffle")(x)


def v2_body(x, config):
    """conv1 (24), pool1, Stage2 ... Stage4, conv5 (1x1, BN, ReLU) (Table 5)."""
    endpoints = stem(x, STEM)
    x = endpoints["pool1"]
    for stage, (filters, depth) in enumerate(zip(config.widths, config.depths), start=2):
        for index in range(1, depth + 1):
            x = v2_unit(x, filters, 2 if index == 1 else 1, f"stage{stage}_{index}")
        endpoints[f"stage{stage}"] = x
    endpoints["conv5"] = conv_bn(x, config.last, 1, 1, "conv5")
    return endpoints


def v2_configure(row, *, depths):
    config = dataclasses.replace(row, depths=check_depths(depths))
    return _core.Architecture(config, default_size=224, min_size=MIN_SIZE, head=_heads.pool_head())


def v2_summary(row):
    widths = "/".join(str(w) for w in row.widths)
    return (
        f"ShuffleNet V2: Table 5's stages of {widths} channels ({sum(row.depths)} units of "
        f"channel split, one branch of 1x1, 3x3 depthwise, 1x1 convs, and a channel shuffle), "
        f"a 1x1 conv of {row.last}.\n\n"
        "224x224 input, 3x3 conv stem of 24 filters, global average pooling head."
    )


# --- training: megvii's ShuffleNet-Series train.py (ShuffleNetV1/, ShuffleNetV2/) ----------

# megvii's release trains both versions so (v1's section 4 describes the same setting: batch
# 1024, weight decay 4e-5, a linear decay from 0.5 to 0 over 3 x 10^5 iterations; recalled
# here, the release's code is the source of the numbers): SGD momentum 0.9, LR 0.5 at batch
# 1024 falling linearly to 0 over 300,000 iterations (LambdaLR 1 - step / total_iters: about
# 240 epochs of ImageNet's 1,281,167 images), weight decay 4e-5 on the weights but not on BN's
# parameters or biases (its get_parameters), label smoothing 0.1.
RECIPE = Recipe(
    "Zhang et al. 2018, section 4; megvii ShuffleNet-Series train.py",
    "sgd",
    0.5,
    1024,
    240,
    "linear",
    4e-5,
    decay_norm_and_bias=False,
    label_smoothing=0.1,
)
V2_RECIPE = dataclasses.replace(
    RECIPE, source="Ma et al. 2018; megvii ShuffleNet-Series train.py (ShuffleNetV2)"
)
# The release's train.py: RandomResizedCrop(224) (8%-100% of the area, aspect 3/4-4/3),
# ColorJitter(brightness=0.4, contrast=0.4, saturation=0.4) (the "color_jitter" step: the same
# three blends with factors 1 + U[-0.4, 0.4]), RandomHorizontalFlip; no PCA lighting.
AUGMENTATION = Augmentation(
    "shufflenet",
    "Zhang et al. 2018 and Ma et al. 2018, megvii ShuffleNet-Series train.py",
    "area",
    after_resize=("color_jitter",),
)


def _family(paper, configure, body, options, describe, recipe):
    return _core.Family(
        "shufflenet",
        paper,
        configure,
        body,
        options,
        describe=describe,
        augmentation=AUGMENTATION,
        recipe=recipe,
    )


SHUFFLENET_V1 = _family(V1_PAPER, v1_configure, v1_body, V1_OPTIONS, v1_summary, RECIPE)
SHUFFLENET_V2 = _family(V2_PAPER, v2_configure, v2_body, (DEPTHS_OPTION,), v2_summary, V2_RECIPE)

# Table 1's columns, g = 1, 2, 3, 4, 8, at 1x.
ShuffleNetV1_G1 = SHUFFLENET_V1.register("shufflenet_v1_g1", "ShuffleNetV1_G1", V1Config(1))
ShuffleNetV1_G2 = SHUFFLENET_V1.register("shufflenet_v1_g2", "ShuffleNetV1_G2", V1Config(2))
ShuffleNetV1_G3 = SHUFFLENET_V1.register("shufflenet_v1_g3", "ShuffleNetV1_G3", V1Config(3))
ShuffleNetV1_G4 = SHUFFLENET_V1.register("shufflenet_v1_g4", "ShuffleNetV1_G4", V1Config(4))
ShuffleNetV1_G8 = SHUFFLENET_V1.register("shufflenet_v1_g8", "ShuffleNetV1_G8", V1Config(8))
# Table 5's columns: Stage2 ... Stage4 and conv5's channels.
ShuffleNetV2_x0_5 = SHUFFLENET_V2.register(
    "shufflenet_v2_x0_5",
    "ShuffleNetV2_x0_5",
    V2Config((48, 96, 192), 1024),
    # Replica equivalence in float64 at the smallest input, one unit a stage (a strided unit
    # each: the units' kinds are the strided one and the split one, which (2, 1, 1) adds).
    replica_check=ReplicaCheck(32, builder_options=(("depths", (2, 1, 1)),)),
)
ShuffleNetV2_x1_0 = SHUFFLENET_V2.register(
    "shufflenet_v2_x1_0", "ShuffleNetV2_x1_0", V2Config((116, 232, 464), 1024)
)
ShuffleNetV2_x1_5 = SHUFFLENET_V2.register(
    "shufflenet_v2_x1_5", "ShuffleNetV2_x1_5", V2Config((176, 352, 704), 1024)
)
ShuffleNetV2_x2_0 = SHUFFLENET_V2.register(
    "shufflenet_v2_x2_0", "ShuffleNetV2_x2_0", V2Config((244, 488, 976), 2048)
)

# --- pretrained weights: torchvision's ShuffleNet v2 (keras_classics/weights) ---------------

# torchvision's modules: conv1.0/.1, stage{s}.{unit - 1}.branch1.{0 dw conv, 1 BN, 2 1x1 conv,
# 3 BN}, .branch2.{0 1x1 conv, 1 BN, 3 dw conv, 4 BN, 5 1x1 conv, 6 BN}, conv5.0/.1, fc.
_TORCHVISION_PART = {
    "branch1_dwconv": ("branch1", 0),
    "branch1_conv": ("branch1", 2),
    "branch2_conv1": ("branch2", 0),
    "branch2_dwconv": ("branch2", 3),
    "branch2_conv2": ("branch2", 5),
}
_V2_LAYER = re.compile(r"stage(\d)_(\d+)_(branch1_dwconv|branch1_conv|branch2_\w+?)_(conv|bn)")


def torchvision_module(name):
    """torchvision's module of our layer `name`."""
    fixed = {
        "conv1_conv": "conv1.0",
        "conv1_bn": "conv1.1",
        "conv5_conv": "conv5.0",
        "conv5_bn": "conv5.1",
        "predictions": "fc",
    }
    if name in fixed:
        return fixed[name]
    stage, unit, part, kind = _V2_LAYER.fullmatch(name).groups()
    branch, index = _TORCHVISION_PART[part]
    return f"stage{stage}.{int(unit) - 1}.{branch}.{index + (kind == 'bn')}"


def torchvision_plan(model):
    return {
        layer.name: torch_takes(layer, torchvision_module(layer.name))
        for layer in model.layers
        if layer.weights
    }


conversion.register_conversions(
    *(
        torch_layout.row(
            "torchvision",
            name,
            name,
            torchvision_plan,
            ("fc.",),
            input=torch_layout.TORCHVISION_224,
        )
        for name in (
            "shufflenet_v2_x0_5",
            "shufflenet_v2_x1_0",
            "shufflenet_v2_x1_5",
            "shufflenet_v2_x2_0",
        )
    )
)
# torchvision 0.29's ShuffleNet_V2_X*_Weights.IMAGENET1K_V1 (file names, acc@1, acc@5,
# num_params, _ops, _file_size, resize_size): x0.5 and x1.0 ported from
# ericsun99/Shufflenet-v2-Pytorch (resize 256), x1.5 and x2.0 trained by torchvision's new
# recipe (pull/5906, resize 232).


def _torchvision_card(model, file, top1, top5, params, gmacs, size_mb, resize, recipe):
    card = cards.torchvision_card(
        model, "IMAGENET1K_V1", file, top1, top5, params, gmacs, size_mb, resize, 224, ""
    )
    return dataclasses.replace(card, recipe=recipe)


ERICSUN99 = "https://github.com/ericsun99/Shufflenet-v2-Pytorch"
NEW_RECIPE = "https://github.com/pytorch/vision/pull/5906"
cards.register_cards(
    _torchvision_card(
        "shufflenet_v2_x0_5",
        "shufflenetv2_x0.5-f707e7126e.pth",
        60.552,
        81.746,
        1_366_792,
        0.04,
        5.282,
        256,
        ERICSUN99,
    ),
    _torchvision_card(
        "shufflenet_v2_x1_0",
        "shufflenetv2_x1-5666bf0f80.pth",
        69.362,
        88.316,
        2_278_604,
        0.145,
        8.791,
        256,
        ERICSUN99,
    ),
    _torchvision_card(
        "shufflenet_v2_x1_5",
        "shufflenetv2_x1_5-3c479a10.pth",
        72.996,
        91.086,
        3_503_624,
        0.296,
        13.557,
        232,
        NEW_RECIPE,
    ),
    _torchvision_card(
        "shufflenet_v2_x2_0",
        "shufflenetv2_x2_0-8be3c8ee.pth",
        76.230,
        93.006,
        7_393_996,
        0.583,
        28.433,
        232,
        NEW_RECIPE,
    ),
)
