"""Dual Path Networks: Chen, Li, Xiao, Jin, Yan & Feng, "Dual Path Networks", NIPS 2017,
Table 1 (DPN-92, DPN-98, DPN-131) and Fig. 2(e) (the dual path block); DPN-68 and DPN-107 as
the authors' MXNet release defines them (cypw/DPNs, settings/symbol_dpn-*.py), as timm's
dpn.py does.

A dual path block is a ResNeXt bottleneck of pre-activation units (BN, ReLU, conv) whose last
1x1 conv gives two parts: the first `residual` channels are added to the residual path, the
other `increment` channels are concatenated to the dense path (section 3.2). The two paths
travel as one tensor, [residual, dense], as the release's concatenated input of each block.
Layer names follow the release's and timm's modules: conv1_1 (stem), conv{stage}_{block}
with the units c1x1_w (the projection of a stage's first block), c1x1_a, c3x3_b and c1x1_c,
and conv5_bn_ac (the final BN and activation).
"""

import dataclasses
import re

import keras
import numpy as np

from keras_classics.layers import ChannelSplit
from keras_classics.models import _core, _heads

# The release does not say how it initialises: He normal over the fan-out, as this package's
# ResNet/ResNeXt, which DPN's blocks extend; strided convs padded symmetrically as MXNet.
from keras_classics.models._units import padded_conv as conv
from keras_classics.records.augmentation import Augmentation
from keras_classics.records.input_config import InputConfig
from keras_classics.records.recipe import Recipe
from keras_classics.records.registry import ReplicaCheck
from keras_classics.weights import cards, conversion, torch_layout
from keras_classics.weights.conversion import Take

PAPER = "Chen et al. 2017, Dual Path Networks (DPN), Table 1"

# The release's BN_AC_Conv units use MXNet's BatchNorm defaults (eps 1e-3; momentum 0.9, the
# release's bn_momentum); timm's BnActConv2d keeps eps 1e-3 for these weights.
BN = dict(epsilon=1e-3, momentum=0.9)
# The stages' base widths: a stage's 1x1a/3x3b width is k_R x base / 64 and its residual
# path base x 4 (base x 1 for DPN-68's small form), as the release's bw and R.
STAGE_BASES = (64, 128, 256, 512)
# Five stride-2 steps (conv1_1, the max pool, conv3_1 ... conv5_1): 32 gives a 1x1 final map.
MIN_SIZE = 32


@dataclasses.dataclass(frozen=True)
class Config:
    """One DPN: a row of Table 1 (or of the release), and the options of one build."""

    depths: tuple  # k_sec: blocks in conv2 ... conv5
    increments: tuple  # inc_sec: channels each block adds to the dense path, per stage
    k_r: int  # width of conv2's 1x1a and 3x3b convs (doubling each stage)
    groups: int  # G, the 3x3b conv's cardinality
    stem_filters: int
    stem_kernel: int
    small: bool = False  # DPN-68: residual path 1x (not 4x) the stage base

    @property
    def depth(self):
        """The weighted layers the name counts: three convs per block, conv1, the classifier."""
        return 3 * sum(self.depths) + 2


@dataclasses.dataclass(frozen=True)
class Block:
    """What one dual path block needs to know besides its input."""

    name: str
    width: int  # the 1x1a and 3x3b convs' channels
    residual: int  # the residual path's channels
    increment: int  # channels added to the dense path
    groups: int
    stride: int
    project: bool  # a stage's first block: a 1x1 projection (c1x1_w) of both paths


def bn_act(x, name):
    x = keras.layers.BatchNormalization(**BN, name=f"{name}_bn")(x)
    return keras.layers.ReLU(name=f"{name}_relu")(x)


def bn_act_conv(x, filters, kernel, stride, name, groups=1):
    """The pre-activation unit every block is made of (the release's BN_AC_Conv)."""
    return conv(bn_act(x, name), filters, kernel, stride, name, groups)


def dual_path_block(x, block):
    """Fig. 2(e): the input [residual, dense] (projected by c1x1_w in a stage's first block),
    the bottleneck c1x1_a -> c3x3_b (grouped, strided in the first block of conv3 ... conv5)
    -> c1x1_c, whose first `residual` channels are added to the residual path and whose other
    `increment` channels are appended to the dense path. Returns the paths concatenated,
    [residual, dense]."""
    name = block.name
    if block.project:
        # The projection gives the residual path and a dense path of 2 x increment channels.
        paths = bn_act_conv(
            x, block.residual + 2 * block.increment, 1, block.stride, f"{name}_c1x1_w"
        )
        residual, dense = ChannelSplit(
            (block.residual, 2 * block.increment), name=f"{name}_c1x1_w_split"
        )(paths)
    else:
        residual, dense = ChannelSplit(
            (block.residual, x.shape[-1] - block.residual), name=f"{name}_split"
        )(x)
    h = bn_act_conv(x, block.width, 1, 1, f"{name}_c1x1_a")
    h = bn_act_conv(h, block.width, 3, block.stride, f"{name}_c3x3_b", groups=block.groups)
    h = bn_act_conv(h, block.residual + block.increment, 1, 1, f"{name}_c1x1_c")
    new_residual, new_dense = ChannelSplit(
        (block.residual, block.increment), name=f"{name}_c1x1_c_split"
    )(h)
    residual = keras.layers.Add(name=f"{name}_sum")([residual, new_residual])
    return keras.layers.Concatenate(name=f"{name}_cat")([residual, dense, new_dense])


def body(x, config):
    """conv1_1 (7x7/2; DPN-68 3x3/2) with BN and ReLU, a 3x3/2 max pool, conv2 ... conv5 of
    dual path blocks, then the final BN and activation (conv5_bn_ac) before the pooled head
    (Table 1)."""
    x = conv(x, config.stem_filters, config.stem_kernel, 2, "conv1_1")
    endpoints = {"conv1": bn_act(x, "conv1_1")}
    # Its input follows a ReLU (>= 0): zero padding pools as MXNet's and torch's padded max.
    x = keras.layers.ZeroPadding2D(1, name="conv1_pool_pad")(endpoints["conv1"])
    x = keras.layers.MaxPooling2D(3, strides=2, name="conv1_pool")(x)
    stages = zip(STAGE_BASES, config.depths, config.increments)
    for stage, (base, depth, increment) in enumerate(stages, start=2):
        for index in range(1, depth + 1):
            block = Block(
                name=f"conv{stage}_{index}",
                width=config.k_r * base // 64,
                residual=base if config.small else 4 * base,
                increment=increment,
                groups=config.groups,
                stride=2 if index == 1 and stage > 2 else 1,
                project=index == 1,
            )
            x = dual_path_block(x, block)
        endpoints[f"conv{stage}"] = x
    # The last stage's output goes through the release's final BN_AC (conv5_x_x__relu-sp), a
    # ReLU. timm's dpn.py asks for an ELU there (fc_act_layer="elu"), but builds it from a norm
    # layer whose activation is already bound, and so applies a ReLU too (timm 1.0.31): the
    # conversion parity tests compare against that.
    endpoints["conv5"] = bn_act(x, "conv5_bn_ac")
    return endpoints


def configure(row, *, depths):
    """The row with the caller's `depths` checked and applied."""
    depths = _core.check_depths(depths, row.depths)
    config = dataclasses.replace(row, depths=depths)
    return _core.Architecture(config, default_size=224, min_size=MIN_SIZE, head=_heads.pool_head())


OPTIONS = (
    _core.Option(
        "depths",
        None,
        "Blocks in conv2 ... conv5 (k_sec; the row's when None), e.g. (1, 1, 1, 1).",
    ),
)


def summary(row):
    return (
        f"DPN-{row.depth}: dual path blocks {row.depths}, dense increments {row.increments}, "
        f"k_R={row.k_r}, G={row.groups}.\n\n"
        f"224x224 input, {row.stem_kernel}x{row.stem_kernel} conv stem of "
        f"{row.stem_filters} filters, global average pooling head."
    )


# Training. The release's README gives the augmentation and the hardware, not the optimiser;
# the paper's section 5.1 was not checked here. timm's model index (its DPN page) records SGD
# with momentum and weight decay, LR 0.316 (sqrt 0.1) at batch 1280 (960 for DPN-131), 40 K80s
# (the README's 32 images per GPU for DPN-92/98, 24 for DPN-131/107). What neither gives
# (momentum 0.9, LR / 10 at epochs 30, 60, 80 of 90, weight decay 1e-4 not on BN parameters) is
# ResNeXt's (Xie et al. 2017, section 4), the block DPN's extends.
RECIPE = Recipe(
    "Chen et al. 2017, cypw/DPNs README; timm's model index (LR, batch); ResNeXt's schedule",
    "sgd",
    0.316,
    1280,
    90,
    "steps",
    1e-4,
    milestones=(30, 60, 80),
    decay_norm_and_bias=False,
)
# timm's model index: DPN-131 (and the README's DPN-107, 24 images per GPU) at batch 960.
BATCH_960 = dataclasses.replace(RECIPE, batch_size=960)
# The release's README, "Augmentation": a random crop of 8%-100% of the image at an aspect of
# 3/4-4/3, mirrored, a random HSL shift of at most [20, 40, 50] (MXNet ImageRecordIter's
# random_h/s/l), no PCA lighting. Its resize is bicubic; the training resize here stays
# bilinear (keras_classics/data/train_preprocessing.py).
AUGMENTATION = Augmentation(
    "dpn",
    "Chen et al. 2017, cypw/DPNs README (Augmentation)",
    "area",
    area=(0.08, 1.0),
    aspect=(3 / 4, 4 / 3),
    after_resize=("hsl_jitter",),
    hsl=(20, 40, 50),
)
FAMILY = _core.Family(
    "dpn",
    PAPER,
    configure,
    body,
    OPTIONS,
    mode="dpn",
    describe=summary,
    augmentation=AUGMENTATION,
    recipe=RECIPE,
)

# DPN-68 and DPN-107 are not in Table 1: the release's settings/symbol_dpn-68.py and -107.py.
RELEASE = dataclasses.replace(
    FAMILY, paper="Chen et al. 2017, Dual Path Networks (DPN), MXNet release"
)

# Table 1 (DPN-92, DPN-98, DPN-131) and the release (DPN-68, DPN-107):
# Config(k_sec, inc_sec, k_R, G, stem filters, stem kernel).
DPN68 = RELEASE.register(
    "dpn68",
    "DPN68",
    Config((3, 4, 12, 3), (16, 32, 32, 64), 128, 32, 10, 3, small=True),
    # Replica equivalence in float64 (float32's rounding parts BN runs whatever the strategy;
    # training/equivalence.py) at the smallest input, at the export depth (2, 1, 1, 1): every
    # block kind (the stride-1 and strided projections, a plain dual path block), at a cost
    # the CI bears (the full depth ran over 15 minutes on a shared 2-core CPU).
    replica_check=ReplicaCheck(32, builder_options=(("depths", (2, 1, 1, 1)),)),
)
DPN92 = FAMILY.register("dpn92", "DPN92", Config((3, 4, 20, 3), (16, 32, 24, 128), 96, 32, 64, 7))
DPN98 = FAMILY.register("dpn98", "DPN98", Config((3, 6, 20, 3), (16, 32, 32, 128), 160, 40, 96, 7))
DPN107 = RELEASE.register(
    "dpn107",
    "DPN107",
    Config((4, 8, 20, 3), (20, 64, 64, 128), 200, 50, 128, 7),
    recipe=BATCH_960,
)
DPN131 = FAMILY.register(
    "dpn131",
    "DPN131",
    Config((4, 8, 28, 3), (16, 32, 32, 128), 160, 40, 128, 7),
    recipe=BATCH_960,
)

# --- pretrained weights: timm's ports of the MXNet release (keras_classics/weights) ----------

# timm's module of our layer, its names those of the release: features.conv1_1 (conv, bn),
# features.conv{s}_{b}.c1x1_w_s{1,2} (the projection, named by its stride), .c1x1_a, .c3x3_b,
# .c1x1_c (bn, conv), features.conv5_bn_ac.bn.
_TIMM_UNIT = re.compile(r"(conv\d_\d+)_(c1x1_w|c1x1_a|c3x3_b|c1x1_c)_(bn|conv)")


def timm_module(layer):
    """timm's module prefix of our layer (None for the classifier)."""
    if layer.name in ("conv1_1_conv", "conv1_1_bn"):
        return "features." + layer.name.replace("1_1_", "1_1.")
    if layer.name == "conv5_bn_ac_bn":
        return "features.conv5_bn_ac.bn"
    match = _TIMM_UNIT.fullmatch(layer.name)
    if not match:
        return None
    block, unit, kind = match.groups()
    if unit == "c1x1_w":  # conv2_1's projection keeps the resolution, the others halve it
        unit += "_s1" if block.startswith("conv2_") else "_s2"
    return f"features.{block}.{unit}.{kind}"


def _classifier_kernel(weight):
    # timm's classifier is a 1x1 Conv2d with bias on the pooled map: (classes, C, 1, 1).
    return np.transpose(weight[:, :, 0, 0])


def _concat_out(c1, c2):
    """The "b" blocks' two 1x1 convs c1x1_c1 (residual) and c1x1_c2 (dense) are our one
    c1x1_c conv's output channels in that order (a conv and a split = two convs)."""
    return torch_layout.conv_kernel(np.concatenate([c1, c2], axis=0))


def timm_plan(b):
    """The plan of timm's DPN; `b`: the "b" form (dpn68b, the release's symbol_dpn_b.py),
    whose c1x1_c unit is BN-ReLU then two convs instead of one conv."""

    def plan(model):
        takes = {}
        for layer in model.layers:
            if not layer.weights:
                continue
            if layer.name == "predictions":
                takes[layer.name] = (
                    Take(("classifier.weight",), _classifier_kernel),
                    Take(("classifier.bias",)),
                )
                continue
            module = timm_module(layer)
            if b and module and module.endswith(".c1x1_c.conv"):
                block = module[: -len(".c1x1_c.conv")]
                keys = (f"{block}.c1x1_c1.weight", f"{block}.c1x1_c2.weight")
                takes[layer.name] = (Take(keys, _concat_out),)
            else:
                takes[layer.name] = torch_layout.takes(layer, module)
        return takes

    return plan


# timm's pretrained configs: the release's mean and scale ("dpn"), 224, crop 0.875, bicubic;
# dpn68b's default tag, ra_in1k (trained in timm), takes ImageNet mean/std at crop 0.95, its
# mx_in1k tag the release's.
TIMM_224 = InputConfig("dpn", 224, interpolation="bicubic")
TIMM = dict(head=("classifier.",))
conversion.register_conversions(
    torch_layout.row("timm", "dpn68", "dpn68", timm_plan(False), input=TIMM_224, **TIMM),
    torch_layout.row(
        "timm",
        "dpn68b",
        "dpn68",
        timm_plan(True),
        input=InputConfig("torch", 224, crop_ratio=0.95, interpolation="bicubic"),
        **TIMM,
    ),
    torch_layout.row("timm", "dpn68b.mx_in1k", "dpn68", timm_plan(True), input=TIMM_224, **TIMM),
    *(
        torch_layout.row("timm", name, name, timm_plan(False), input=TIMM_224, **TIMM)
        for name in ("dpn92", "dpn98", "dpn107", "dpn131")
    ),
)
# Accuracies: timm's results-imagenet.csv (dpn68b.ra_in1k there at its test size, 288 with
# crop 1.0); the MXNet release's own (cypw/DPNs README, 224): DPN-68 76.43, DPN-68* (ImageNet-5k
# pre-trained, timm's dpn68b.mx_in1k) 77.55, DPN-92 79.27, DPN-98 79.85, DPN-131 80.07, DPN-107*
# 80.25 top-1.
cards.register_cards(
    *(
        cards.timm_card(tag, top1, top5, 224, 0.875, "bicubic", "apache-2.0", params)
        for tag, top1, top5, params in (
            ("dpn68.mx_in1k", 76.346, 93.008, 12_611_602),
            ("dpn68b.mx_in1k", 77.518, 93.852, 12_611_602),
            ("dpn92.mx_in1k", 80.038, 94.860, 37_668_392),
            ("dpn98.mx_in1k", 79.670, 94.654, 61_570_728),
            ("dpn107.mx_in1k", 80.168, 94.942, 86_917_800),
            ("dpn131.mx_in1k", 79.814, 94.700, 79_254_504),
        )
    ),
    cards.timm_card(
        "dpn68b.ra_in1k", 79.362, 94.438, 224, 0.95, "bicubic", "apache-2.0", 12_611_602
    ),
)
