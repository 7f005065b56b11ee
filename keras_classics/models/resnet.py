"""ResNet, plain nets and ResNeXt: one family, one builder, rows in a table.

ResNet: He, Zhang, Ren & Sun, "Deep Residual Learning for Image Recognition", CVPR 2016,
Table 1 (stages), section 3.3 (shortcut options A/B/C, plain baselines).
The CIFAR-10 nets of section 4.2 (Table 6) are rows of the same table with a CIFAR stem: a 3x3
conv of 16 filters on 32x32 images, three stages of 16, 32 and 64 filters, option A shortcuts.
ResNeXt: Xie, Girshick, Dollar, Tu & He, "Aggregated Residual Transformations for Deep Neural
Networks", CVPR 2017, Table 1 and Fig. 3 (three equivalent block forms).
"""

import dataclasses
import re

import keras
import numpy as np

from keras_classics.layers import ChannelZeroPad
from keras_classics.layers.group_conv import conv2d
from keras_classics.models import _core
from keras_classics.records.augmentation import Augmentation, register_augmentation
from keras_classics.records.recipe import Recipe
from keras_classics.records.registry import ReplicaCheck
from keras_classics.weights import cards, conversion, keras_layout, torch_layout
from keras_classics.weights.conversion import Take

RESNET_PAPER = "He et al. 2016, Deep Residual Learning, Table 1"
RESNEXT_PAPER = "Xie et al. 2017, Aggregated Residual Transformations (ResNeXt), Table 1"

SHORTCUTS = ("A", "B", "C")
DOWNSAMPLE_AT = ("1x1", "3x3")
BLOCK_FORMS = ("a", "b", "c")
STAGE_PLANES = (64, 128, 256, 512)
EXPANSION = {"basic": 1, "bottleneck": 4}
# The ResNet paper follows Ioffe & Szegedy's BN; eps/momentum as torchvision (1e-5, 0.1).
BN = dict(epsilon=1e-5, momentum=0.9)


@dataclasses.dataclass(frozen=True)
class Stem:
    """What comes before the stages, and what follows from it for a row."""

    filters: int
    kernel: int
    stride: int
    max_pool: bool  # the 3x3/2 max pool after conv1
    planes: tuple  # the stages' planes
    default_size: int
    min_size: int
    shortcut: str  # the paper's shortcut option for these nets
    classes: int  # the dataset's


STEMS = {
    # Table 1: conv1 7x7/2, 64, then a 3x3/2 max pool; conv2_x ... conv5_x on 224x224 ImageNet.
    "imagenet": Stem(64, 7, 2, True, STAGE_PLANES, 224, 32, "B", 1000),
    # Section 4.2: "The first layer is 3x3 convolutions", then 6n layers on maps of 32, 16 and
    # 8 with 16, 32 and 64 filters, subsampling by stride 2; "we use identity shortcuts in all
    # cases (i.e., option A)". CIFAR-10's 10 classes. Min 8: a 2x2 final map.
    "cifar": Stem(16, 3, 1, False, (16, 32, 64), 32, 8, "A", 10),
}


def he_normal_fan_out():
    """'We initialize the weights as in [13]' (He et al. 2015): He normal, fan-out as
    torchvision. A fresh instance per layer: a Keras 3 initializer object draws the same
    values on every call, so a shared one would give equal-shaped convs equal weights."""
    return keras.initializers.VarianceScaling(
        2.0, mode="fan_out", distribution="untruncated_normal"
    )


@dataclasses.dataclass(frozen=True)
class Block:
    """What one residual block needs to know besides its input."""

    planes: int
    stride: int
    name: str
    kind: str  # "basic" or "bottleneck"
    groups: int
    width_per_group: int
    shortcut: str  # "A", "B", "C", or None for a plain net
    downsample_at: str
    form: str

    @property
    def out_channels(self):
        return self.planes * EXPANSION[self.kind]

    @property
    def width(self):
        # ResNeXt Table 1: C groups of d channels; ResNet is C=1, d=64 per 64 planes.
        return self.planes * self.width_per_group // 64 * self.groups


def conv(x, filters, kernel, stride, name, groups=1):
    """conv (no bias); strided 3x3/7x7 convs pad symmetrically as the papers' Caffe/Torch code,
    not with Keras' asymmetric 'same' (which would shift every feature map by one pixel)."""
    padding = "same"
    if kernel > 1 and stride > 1:
        x = keras.layers.ZeroPadding2D(kernel // 2, name=f"{name}_pad")(x)
        padding = "valid"
    return conv2d(
        filters,
        kernel,
        strides=stride,
        padding=padding,
        groups=groups,
        use_bias=False,
        kernel_initializer=he_normal_fan_out(),
        name=f"{name}_conv",
    )(x)


def conv_bn(x, filters, kernel, stride, name, groups=1, relu=True):
    """conv + BN [+ ReLU], the unit every ResNet layer is made of."""
    x = conv(x, filters, kernel, stride, name, groups)
    x = keras.layers.BatchNormalization(**BN, name=f"{name}_bn")(x)
    return keras.layers.ReLU(name=f"{name}_relu")(x) if relu else x


def shortcut(x, block):
    """Section 3.3: A = identity, zero-padded (and subsampled) where the shape changes;
    B = 1x1 projection only where it changes; C = projections everywhere."""
    changes = block.stride != 1 or x.shape[-1] != block.out_channels
    if block.shortcut == "C" or (block.shortcut == "B" and changes):
        return conv_bn(x, block.out_channels, 1, block.stride, f"{block.name}_0", relu=False)
    if changes:  # option A
        if block.stride != 1:
            x = keras.layers.MaxPooling2D(1, strides=block.stride, name=f"{block.name}_0_pool")(x)
        x = ChannelZeroPad(block.out_channels, name=f"{block.name}_0_pad")(x)
    return x


def basic_residual(x, block):
    """Two 3x3 convs (ResNet-18/34, Fig. 5 left)."""
    x = conv_bn(x, block.planes, 3, block.stride, f"{block.name}_1")
    return conv_bn(x, block.planes, 3, 1, f"{block.name}_2", relu=False)


def bottleneck_residual(x, block):
    """1x1 reduce, 3x3 (grouped for ResNeXt), 1x1 expand (Fig. 5 right; ResNeXt Fig. 3c).

    The ResNet paper downsamples in the first 1x1 (Caffe release); ResNeXt and torchvision
    ("ResNet v1.5") in the 3x3: `downsample_at`.
    """
    s1, s3 = (block.stride, 1) if block.downsample_at == "1x1" else (1, block.stride)
    if block.form == "c":
        x = conv_bn(x, block.width, 1, s1, f"{block.name}_1")
        x = conv_bn(x, block.width, 3, s3, f"{block.name}_2", groups=block.groups)
        return conv_bn(x, block.out_channels, 1, 1, f"{block.name}_3", relu=False)
    return (early_concat_residual if block.form == "b" else aggregated_residual)(x, block, s1, s3)


def early_concat_residual(x, block, s1, s3):
    """ResNeXt Fig. 3(b): C paths of 1x1 + 3x3 (d channels), concatenated, one 1x1 expand."""
    d = block.width // block.groups
    paths = [
        conv(conv_bn(x, d, 1, s1, f"{block.name}_path{i}_1"), d, 3, s3, f"{block.name}_path{i}_2")
        for i in range(block.groups)
    ]
    x = keras.layers.Concatenate(name=f"{block.name}_2_concat")(paths)
    x = keras.layers.BatchNormalization(**BN, name=f"{block.name}_2_bn")(x)
    x = keras.layers.ReLU(name=f"{block.name}_2_relu")(x)
    return conv_bn(x, block.out_channels, 1, 1, f"{block.name}_3", relu=False)


def aggregated_residual(x, block, s1, s3):
    """ResNeXt Fig. 3(a): the sum of C full paths 1x1 -> 3x3 -> 1x1, then one BN.

    BN and ReLU act per channel, so they split across paths exactly; the last 1x1 convs are
    linear, so summing C of them equals one 1x1 over the concatenation (forms b and c).
    """
    d = block.width // block.groups
    paths = []
    for i in range(block.groups):
        h = conv_bn(x, d, 1, s1, f"{block.name}_path{i}_1")
        h = conv_bn(h, d, 3, s3, f"{block.name}_path{i}_2")
        paths.append(conv(h, block.out_channels, 1, 1, f"{block.name}_path{i}_3"))
    x = keras.layers.Add(name=f"{block.name}_3_sum")(paths)
    return keras.layers.BatchNormalization(**BN, name=f"{block.name}_3_bn")(x)


RESIDUALS = {"basic": basic_residual, "bottleneck": bottleneck_residual}


def residual_block(x, block):
    """F(x) + shortcut(x), then ReLU; a plain net (shortcut None) is F(x) then ReLU."""
    fx = RESIDUALS[block.kind](x, block)
    if block.shortcut is not None:
        fx = keras.layers.Add(name=f"{block.name}_add")([shortcut(x, block), fx])
    return keras.layers.ReLU(name=f"{block.name}_out")(fx)


def body(x, config):
    """conv1: 7x7/2, 64; pool1: 3x3/2 max pool; conv2_x ... conv5_x (Table 1). The CIFAR stem:
    conv1 3x3, 16; conv2_x ... conv4_x (section 4.2)."""
    stem = STEMS[config.stem]
    endpoints = {"conv1": conv_bn(x, stem.filters, stem.kernel, stem.stride, "conv1")}
    x = endpoints["conv1"]
    if stem.max_pool:
        x = keras.layers.ZeroPadding2D(1, name="pool1_pad")(x)
        x = keras.layers.MaxPooling2D(3, strides=2, name="pool1_pool")(x)
    for stage, (depth, planes) in enumerate(zip(config.depths, stem.planes), start=2):
        for index in range(1, depth + 1):
            block = Block(
                planes=planes,
                stride=2 if index == 1 and stage > 2 else 1,
                name=f"conv{stage}_block{index}",
                kind=config.kind,
                groups=config.groups,
                width_per_group=config.width_per_group,
                shortcut=config.shortcut,
                downsample_at=config.downsample_at,
                form=config.block_form,
            )
            x = residual_block(x, block)
        endpoints[f"conv{stage}"] = x
    return endpoints


@dataclasses.dataclass(frozen=True)
class Config:
    """One row of ResNet Table 1 / ResNeXt Table 1, and the options of one build."""

    depths: tuple
    kind: str
    groups: int = 1
    width_per_group: int = 64
    residual: bool = True
    downsample_at: str = "1x1"
    shortcut: str = None
    block_form: str = "c"
    stem: str = "imagenet"  # STEMS

    @property
    def depth(self):
        return 2 + sum(self.depths) * (2 if self.kind == "basic" else 3)


def configure(row, *, depths, shortcut, downsample_at, block_form):
    """The row with the caller's options checked and applied (the row's stage depths, shortcut
    B by default for residual nets, the row's downsampling position)."""
    depths = row.depths if depths is None else _core.check_depths(depths, row.depths)
    if not row.residual:
        if shortcut is not None:
            raise ValueError(
                f"shortcut={shortcut!r} is invalid for a plain net; accepted: "
                "None (plain nets have no shortcuts)."
            )
    else:
        shortcut = shortcut or STEMS[row.stem].shortcut
        if shortcut not in SHORTCUTS:
            raise ValueError(f"shortcut={shortcut!r} is invalid; accepted: {SHORTCUTS}.")
    downsample_at = downsample_at or row.downsample_at
    if downsample_at not in DOWNSAMPLE_AT:
        raise ValueError(f"downsample_at={downsample_at!r} is invalid; accepted: {DOWNSAMPLE_AT}.")
    if block_form not in BLOCK_FORMS or (row.kind == "basic" and block_form != "c"):
        accepted = BLOCK_FORMS if row.kind == "bottleneck" else ("c",)
        raise ValueError(
            f"block_form={block_form!r} is invalid for {row.kind} blocks; accepted: {accepted}."
        )
    config = dataclasses.replace(
        row,
        depths=depths,
        shortcut=shortcut,
        downsample_at=downsample_at,
        block_form=block_form,
    )
    stem = STEMS[row.stem]
    return _core.Architecture(
        config,
        default_size=stem.default_size,
        min_size=stem.min_size,
        head=_core.pool_head(),
        classes=stem.classes,
    )


OPTIONS = (
    _core.Option(
        "depths",
        None,
        "Blocks in conv2_x ... conv5_x (the Table 1 row's when None), as keras-hub's "
        "stackwise_num_blocks and timm's layers: e.g. ResNet50(depths=(2, 2, 2, 2)) is "
        "timm's resnet26.",
    ),
    _core.Option(
        "shortcut",
        None,
        'Section 3.3: "A" (identity, zero-padded where the shape changes; used when None '
        'for the CIFAR nets, as section 4.2), "B" (projections where it changes; used when '
        'None for the ImageNet nets) or "C" (projections everywhere); plain nets take only '
        "None.",
    ),
    _core.Option(
        "downsample_at",
        None,
        'Where a bottleneck block strides: "1x1" (the paper\'s Caffe release; the '
        'ResNet rows\' when None) or "3x3" (torchvision\'s "v1.5"; the ResNeXt rows\').',
    ),
    _core.Option(
        "block_form",
        "c",
        'ResNeXt Fig. 3\'s equivalent forms of a bottleneck block: "a" (C summed '
        'paths), "b" (early concatenation) or "c" (grouped convolution).',
    ),
)


def summary(row):
    what = (
        "plain"
        if not row.residual
        else f"{row.groups}x{row.width_per_group}d ResNeXt"
        if row.groups > 1
        else "residual"
    )
    if row.stem == "cifar":
        return (
            f"{row.depth}-layer {what} CIFAR net (section 4.2, Table 6: n={row.depths[0]}), "
            f"three stages of 16, 32, 64 filters, {row.kind} blocks.\n\n"
            "32x32 input, 3x3 conv stem, global average pooling head, 10 classes."
        )
    return (
        f"{row.depth}-layer {what} net, stages {row.depths} of {row.kind} blocks.\n\n"
        "224x224 input, global average pooling head."
    )


# Training: section 3.4 and the tf-models/fb.resnet.torch schedule, SGD 0.9, LR 0.1 per 256
# images, / 10 at epochs 30, 60, 80, weight decay 1e-4 not on BN parameters and biases, 90
# epochs.
RECIPE = Recipe(
    "He et al. 2016, section 3.4",
    "sgd",
    0.1,
    256,
    90,
    "steps",
    1e-4,
    milestones=(30, 60, 80),
    decay_norm_and_bias=False,
)
# Section 4.2 (CIFAR-10): SGD 0.9, batch 128, LR 0.1 / 10 at 32k and 48k of 64k iterations
# (~182 epochs of 45k images), weight decay 1e-4; also the recipe on the bundled 28x28
# Fashion-MNIST (trained with the same 4-pixel pad-and-crop). A short run keeps the milestones
# at 50% and 75% of its length.
CIFAR_RECIPE = dataclasses.replace(
    RECIPE,
    source="He et al. 2016, section 4.2 (CIFAR-10)",
    batch_size=128,
    epochs=182,
    milestones=(91, 136.5),
)
# Augmentation, section 3.4: the shorter side rescaled to S ~ U[256, 480], a random 224x224
# crop, flipped, and "the standard color augmentation in [21]" (AlexNet's PCA lighting).
AUGMENTATION = Augmentation(
    "resnet",
    "He et al. 2016, section 3.4",
    "scale",
    scale=(256, 480),
    after_resize=("pca_lighting",),
)
# Section 4.2 (CIFAR-10): 4 pixels padded on each side, a random 32x32 crop and its flip; for
# small whole-object images of any model (--augmentation pad_crop), not a default.
register_augmentation(
    Augmentation(
        "pad_crop",
        "He et al. 2016, section 4.2 (CIFAR-10)",
        "eval",
        after_resize=("pad_and_crop",),
    )
)
RESNET = _core.Family(
    "resnet",
    RESNET_PAPER,
    configure,
    body,
    OPTIONS,
    describe=summary,
    augmentation=AUGMENTATION,
    recipe=RECIPE,
    small_image_recipe=CIFAR_RECIPE,
)
PLAIN = dataclasses.replace(RESNET, paper=RESNET_PAPER + ", plain")
# Xie et al. 2017, section 4: ResNeXt trains as ResNet.
RESNEXT = dataclasses.replace(
    RESNET,
    name="resnext",
    paper=RESNEXT_PAPER,
    recipe=dataclasses.replace(RECIPE, source="Xie et al. 2017, section 4"),
)
NEXT = dict(kind="bottleneck", downsample_at="3x3")

# ResNet Table 1 and ResNeXt Table 1, a row each: Config(depths, block kind, ...).
# Replica equivalence (keras_classics/training/equivalence.py) in float64: with BatchNorm,
# float32's rounding makes the runs part whatever the strategy (equivalence's docstring).
ResNet18 = RESNET.register(
    "resnet18", "ResNet18", Config((2, 2, 2, 2), "basic"), replica_check=ReplicaCheck(32)
)
ResNet34 = RESNET.register("resnet34", "ResNet34", Config((3, 4, 6, 3), "basic"))
ResNet50 = RESNET.register("resnet50", "ResNet50", Config((3, 4, 6, 3), "bottleneck"))
ResNet101 = RESNET.register("resnet101", "ResNet101", Config((3, 4, 23, 3), "bottleneck"))
ResNet152 = RESNET.register("resnet152", "ResNet152", Config((3, 8, 36, 3), "bottleneck"))
PlainNet18 = PLAIN.register(
    "plainnet18",
    "PlainNet18",
    Config((2, 2, 2, 2), "basic", residual=False),
    replica_check=ReplicaCheck(32),
)
PlainNet34 = PLAIN.register(
    "plainnet34", "PlainNet34", Config((3, 4, 6, 3), "basic", residual=False)
)
ResNeXt50 = RESNEXT.register(
    "resnext50_32x4d",
    "ResNeXt50",
    Config((3, 4, 6, 3), groups=32, width_per_group=4, **NEXT),
    # Replica equivalence with one block per stage (its grouped 3x3 convolutions of
    # cardinality 32, the 3x3-strided downsampling and the projection shortcuts, ResNeXt-50's
    # widths): at full depth its float64 runs part after a few steps however right the
    # strategy (a first step agrees to 9.3e-13; docs/roadmap.md); at (1, 1, 1, 1) five steps
    # agree to 5.1e-8.
    replica_check=ReplicaCheck(32, builder_options=(("depths", (1, 1, 1, 1)),)),
)
ResNeXt101 = RESNEXT.register(
    "resnext101_32x4d", "ResNeXt101", Config((3, 4, 23, 3), groups=32, width_per_group=4, **NEXT)
)
ResNeXt101_64x4d = RESNEXT.register(
    "resnext101_64x4d",
    "ResNeXt101_64x4d",
    Config((3, 4, 23, 3), groups=64, width_per_group=4, **NEXT),
)
ResNeXt101_32x8d = RESNEXT.register(
    "resnext101_32x8d",
    "ResNeXt101_32x8d",
    Config((3, 4, 23, 3), groups=32, width_per_group=8, **NEXT),
)

# Section 4.2 and Table 6: the CIFAR-10 nets of 6n+2 layers (n = 3, 5, 7, 9, 18), residual
# (option A) and plain.
CIFAR = dict(kind="basic", stem="cifar")
# The CIFAR nets train with section 4.2's recipe on any dataset.
RESNET_CIFAR = dataclasses.replace(
    RESNET,
    paper="He et al. 2016, section 4.2, Table 6 (CIFAR-10)",
    recipe=CIFAR_RECIPE,
    small_image_recipe=None,
)
PLAIN_CIFAR_FAMILY = dataclasses.replace(RESNET_CIFAR, paper=RESNET_CIFAR.paper + ", plain")
ResNet20_CIFAR = RESNET_CIFAR.register(
    "resnet20_cifar", "ResNet20_CIFAR", Config((3, 3, 3), **CIFAR)
)
ResNet32_CIFAR = RESNET_CIFAR.register(
    "resnet32_cifar", "ResNet32_CIFAR", Config((5, 5, 5), **CIFAR)
)
ResNet44_CIFAR = RESNET_CIFAR.register(
    "resnet44_cifar", "ResNet44_CIFAR", Config((7, 7, 7), **CIFAR)
)
ResNet56_CIFAR = RESNET_CIFAR.register(
    "resnet56_cifar", "ResNet56_CIFAR", Config((9, 9, 9), **CIFAR)
)
ResNet110_CIFAR = RESNET_CIFAR.register(
    "resnet110_cifar",
    "ResNet110_CIFAR",
    Config((18, 18, 18), **CIFAR),
    # ResNet-110 "use[s] 0.01 to warm up the training until the training error is below 80%
    # (about 400 iterations)": here a linear warm-up over the first epoch (352 iterations of
    # 45k images at batch 128).
    recipe=dataclasses.replace(CIFAR_RECIPE, warmup_epochs=1.0),
)
PLAIN_CIFAR = dict(residual=False, **CIFAR)
PlainNet20_CIFAR = PLAIN_CIFAR_FAMILY.register(
    "plain20_cifar", "PlainNet20_CIFAR", Config((3, 3, 3), **PLAIN_CIFAR)
)
PlainNet32_CIFAR = PLAIN_CIFAR_FAMILY.register(
    "plain32_cifar", "PlainNet32_CIFAR", Config((5, 5, 5), **PLAIN_CIFAR)
)
PlainNet44_CIFAR = PLAIN_CIFAR_FAMILY.register(
    "plain44_cifar", "PlainNet44_CIFAR", Config((7, 7, 7), **PLAIN_CIFAR)
)
PlainNet56_CIFAR = PLAIN_CIFAR_FAMILY.register(
    "plain56_cifar", "PlainNet56_CIFAR", Config((9, 9, 9), **PLAIN_CIFAR)
)
PlainNet110_CIFAR = PLAIN_CIFAR_FAMILY.register(
    "plain110_cifar", "PlainNet110_CIFAR", Config((18, 18, 18), **PLAIN_CIFAR)
)


# --- pretrained weights: conversion rows and weight cards (keras_classics/weights) ----------

_TORCHVISION_LAYER = re.compile(r"conv(\d)_block(\d+)_(\d)_(conv|bn)")


def torchvision_module(name):
    """Our ResNet layer name (keras.applications naming) -> torchvision's module.

    conv1_conv/bn -> conv1/bn1; conv{s}_block{b}_{k}_conv/bn -> layer{s-1}.{b-1}.conv{k}/bn{k};
    the projection shortcut conv{s}_block{b}_0_* -> layer{s-1}.{b-1}.downsample.0/1;
    predictions -> fc. Returns None for a layer torchvision does not have.
    """
    if name in ("conv1_conv", "conv1_bn", "predictions"):
        return {"conv1_conv": "conv1", "conv1_bn": "bn1", "predictions": "fc"}[name]
    match = _TORCHVISION_LAYER.fullmatch(name)
    if not match:
        return None
    stage, block, index, kind = match.groups()
    prefix = f"layer{int(stage) - 1}.{int(block) - 1}"
    if index == "0":
        return f"{prefix}.downsample.{0 if kind == 'conv' else 1}"
    return f"{prefix}.{kind}{index}"


def torchvision_names(model):
    names = {layer.name: torchvision_module(layer.name) for layer in model.layers if layer.weights}
    return {k: v for k, v in names.items() if v is not None}


TORCHVISION_PLAN = torch_layout.plan(torchvision_names)

# keras.applications' ResNet is the paper's Caffe release: stride in the first 1x1 of a
# bottleneck (our downsample_at="1x1"), a bias on every conv, BN epsilon 1.001e-5, caffe
# preprocessing (BGR, mean pixel subtracted). Our ResNet has no conv biases and epsilon 1e-5;
# both differences fold exactly into the BN that follows each conv, at inference:
#   BN(conv(x) + b) with mean m:  the same as BN(conv(x)) with mean m - b;
#   (x - m) / sqrt(v + 1.001e-5):  the same as (x - m) / sqrt(v' + 1e-5), v' = v + 1e-8.
# In training BN normalises with batch statistics, where a constant bias cancels, so the plain
# builder loses nothing and needs no conv-bias option. Layer names are keras.applications' own.
KERAS_BN_EPSILON = 1.001e-5


def fold_conv_bias(mean, bias):
    return (np.float64(mean) - bias).astype(np.float32)


def fold_epsilon(variance):
    shift = KERAS_BN_EPSILON - BN["epsilon"]
    return (np.float64(variance) + shift).astype(np.float32)


def keras_applications_plan(model):
    """Same layer names; each BN takes its conv's bias into its mean, and the epsilon shift."""
    plan = {}
    for layer in model.layers:
        if not layer.weights:
            continue
        if isinstance(layer, keras.layers.BatchNormalization):
            conv = layer.name[: -len("_bn")] + "_conv"
            bn = layer.name
            plan[bn] = (
                Take((f"{bn}/gamma",)),
                Take((f"{bn}/beta",)),
                Take((f"{bn}/moving_mean", f"{conv}/bias"), fold_conv_bias),
                Take((f"{bn}/moving_variance",), fold_epsilon),
            )
        else:
            plan[layer.name] = keras_layout.variables(layer, layer.name)
    return plan


# ResNet v1.5: torchvision (and timm) stride the bottleneck's 3x3 conv, not the paper's first
# 1x1. ResNeXt builders stride the 3x3 by default (ResNeXt paper); recorded explicitly.
V15 = dict(downsample_at="3x3")


def _torchvision(name, **options):
    return torch_layout.row(
        "torchvision",
        name,
        name,
        TORCHVISION_PLAN,
        ("fc.",),
        input=torch_layout.TORCHVISION_224,
        **options,
    )


conversion.register_conversions(
    _torchvision("resnet18"),
    _torchvision("resnet34"),
    *(_torchvision(name, **V15) for name in ("resnet50", "resnet101", "resnet152")),
    *(
        _torchvision(name, **V15)
        for name in ("resnext50_32x4d", "resnext101_32x8d", "resnext101_64x4d")
    ),
    # timm's ResNe(X)t uses torchvision's module names; resnext101_32x4d's default tag
    # (fb_ssl_yfcc100m_ft_in1k, as fb_swsl) resizes bilinearly, its gluon_in1k tag bicubically
    # (the cards say which).
    torch_layout.row(
        "timm",
        "resnext101_32x4d",
        "resnext101_32x4d",
        TORCHVISION_PLAN,
        ("fc.",),
        input=torch_layout.TORCHVISION_224,
        **V15,
    ),
    *(
        keras_layout.row(
            f"ResNet{depth}",
            f"resnet{depth}",
            keras_applications_plan,
            ("predictions/",),
            builder_kwargs=dict(downsample_at="1x1"),
        )
        for depth in (50, 101, 152)
    ),
)
cards.register_cards(
    cards.torchvision_card(
        "resnet18",
        "IMAGENET1K_V1",
        "resnet18-f37072fd.pth",
        69.758,
        89.078,
        11_689_512,
        1.814,
        44.661,
        256,
        224,
        "tree/main/references/classification#resnet",
    ),
    cards.torchvision_card(
        "resnet34",
        "IMAGENET1K_V1",
        "resnet34-b627a593.pth",
        73.314,
        91.42,
        21_797_672,
        3.664,
        83.275,
        256,
        224,
        "tree/main/references/classification#resnet",
    ),
    cards.torchvision_card(
        "resnet50",
        "IMAGENET1K_V1",
        "resnet50-0676ba61.pth",
        76.13,
        92.862,
        25_557_032,
        4.089,
        97.781,
        256,
        224,
        "tree/main/references/classification#resnet",
    ),
    cards.torchvision_card(
        "resnet50",
        "IMAGENET1K_V2",
        "resnet50-11ad3fa6.pth",
        80.858,
        95.434,
        25_557_032,
        4.089,
        97.79,
        232,
        224,
        "issues/3995#issuecomment-1013906621",
    ),
    cards.torchvision_card(
        "resnet101",
        "IMAGENET1K_V1",
        "resnet101-63fe2227.pth",
        77.374,
        93.546,
        44_549_160,
        7.801,
        170.511,
        256,
        224,
        "tree/main/references/classification#resnet",
    ),
    cards.torchvision_card(
        "resnet101",
        "IMAGENET1K_V2",
        "resnet101-cd907fc2.pth",
        81.886,
        95.78,
        44_549_160,
        7.801,
        170.53,
        232,
        224,
        "issues/3995#new-recipe",
    ),
    cards.torchvision_card(
        "resnet152",
        "IMAGENET1K_V1",
        "resnet152-394f9c45.pth",
        78.312,
        94.046,
        60_192_808,
        11.514,
        230.434,
        256,
        224,
        "tree/main/references/classification#resnet",
    ),
    cards.torchvision_card(
        "resnet152",
        "IMAGENET1K_V2",
        "resnet152-f82ba261.pth",
        82.284,
        96.002,
        60_192_808,
        11.514,
        230.474,
        232,
        224,
        "issues/3995#new-recipe",
    ),
    cards.torchvision_card(
        "resnext50_32x4d",
        "IMAGENET1K_V1",
        "resnext50_32x4d-7cdf4587.pth",
        77.618,
        93.698,
        25_028_904,
        4.23,
        95.789,
        256,
        224,
        "tree/main/references/classification#resnext",
    ),
    cards.torchvision_card(
        "resnext50_32x4d",
        "IMAGENET1K_V2",
        "resnext50_32x4d-1a0047aa.pth",
        81.198,
        95.34,
        25_028_904,
        4.23,
        95.833,
        232,
        224,
        "issues/3995#new-recipe",
    ),
    cards.torchvision_card(
        "resnext101_32x8d",
        "IMAGENET1K_V1",
        "resnext101_32x8d-8ba56ff5.pth",
        79.312,
        94.526,
        88_791_336,
        16.414,
        339.586,
        256,
        224,
        "tree/main/references/classification#resnext",
    ),
    cards.torchvision_card(
        "resnext101_32x8d",
        "IMAGENET1K_V2",
        "resnext101_32x8d-110c445d.pth",
        82.834,
        96.228,
        88_791_336,
        16.414,
        339.673,
        232,
        224,
        "issues/3995#new-recipe-with-fixres",
    ),
    cards.torchvision_card(
        "resnext101_64x4d",
        "IMAGENET1K_V1",
        "resnext101_64x4d-173b62eb.pth",
        83.246,
        96.454,
        83_455_272,
        15.46,
        319.318,
        232,
        224,
        "pull/5935",
    ),
    cards.timm_card(
        "resnext101_32x4d.gluon_in1k",
        80.336,
        94.908,
        224,
        0.875,
        "bicubic",
        "apache-2.0",
        44_177_704,
    ),
    cards.timm_card(
        "resnext101_32x4d.fb_ssl_yfcc100m_ft_in1k",
        80.936,
        95.732,
        224,
        0.875,
        "bilinear",
        "cc-by-nc-4.0",
        44_177_704,
    ),
    cards.timm_card(
        "resnext101_32x4d.fb_swsl_ig1b_ft_in1k",
        83.268,
        96.76,
        224,
        0.875,
        "bilinear",
        "cc-by-nc-4.0",
        44_177_704,
    ),
    cards.keras_card(
        "ResNet50",
        "resnet/resnet50_weights_tf_dim_ordering_tf_kernels.h5",
        "2cb95161c43110f7111970584f804107",
        74.9,
        92.1,
        98,
        "MIT (Kaiming He's release)",
        25_557_032,
    ),
    cards.keras_card(
        "ResNet101",
        "resnet/resnet101_weights_tf_dim_ordering_tf_kernels.h5",
        "f1aeb4b969a6efcfb50fad2f0c20cfc5",
        76.4,
        92.8,
        171,
        "MIT (Kaiming He's release; stated for ResNet-50)",
        44_549_160,
    ),
    cards.keras_card(
        "ResNet152",
        "resnet/resnet152_weights_tf_dim_ordering_tf_kernels.h5",
        "100835be76be38e30d865e96f2aaae62",
        76.6,
        93.1,
        232,
        "MIT (Kaiming He's release; stated for ResNet-50)",
        60_192_808,
    ),
)
