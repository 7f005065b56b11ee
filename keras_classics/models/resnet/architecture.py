"""ResNet, plain nets and ResNeXt: the tables, blocks, body and options of the family.

ResNet: He, Zhang, Ren & Sun, "Deep Residual Learning for Image Recognition", CVPR 2016,
Table 1 (stages), section 3.3 (shortcut options A/B/C, plain baselines).
The CIFAR-10 nets of section 4.2 (Table 6) are rows of the same table with a CIFAR stem: a 3x3
conv of 16 filters on 32x32 images, three stages of 16, 32 and 64 filters, option A shortcuts.
ResNeXt: Xie, Girshick, Dollar, Tu & He, "Aggregated Residual Transformations for Deep Neural
Networks", CVPR 2017, Table 1 and Fig. 3 (three equivalent block forms).
SE-ResNet, SE-ResNeXt and SENet-154: Hu, Shen, Albanie, Sun & Wu, "Squeeze-and-Excitation
Networks", CVPR 2018 / TPAMI 2019: a squeeze-excitation on every residual branch (Fig. 3,
Table 1) is a column of the same table; SENet-154 (appendix) adds a 3-conv stem, a halved
first 1x1, 3x3 downsampling projections and dropout before the classifier.
"""

import dataclasses

import keras

from keras_classics.layers import ChannelZeroPad
from keras_classics.layers.squeeze_excite import SqueezeExcite
from keras_classics.models import _core, _heads

# "We initialize the weights as in [13]" (He et al. 2015): He normal over the fan-out, as
# torchvision; strided convs padded symmetrically as the papers' Caffe/Torch code.
from keras_classics.models._units import padded_conv as conv

RESNET_PAPER = "He et al. 2016, Deep Residual Learning, Table 1"
RESNEXT_PAPER = "Xie et al. 2017, Aggregated Residual Transformations (ResNeXt), Table 1"
SENET_PAPER = "Hu et al. 2018, Squeeze-and-Excitation Networks, Table 1 and appendix"

SHORTCUTS = ("A", "B", "C")
DOWNSAMPLE_AT = ("1x1", "3x3")
BLOCK_FORMS = ("a", "b", "c")
POOL1 = ("padded", "ceil")
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
    # A deep stem (SENet-154): 3x3 convs of these widths, the first strided, before conv1's
    # own (`filters`, `kernel` 3, stride 1); empty for one conv.
    deep: tuple = ()


STEMS = {
    # Table 1: conv1 7x7/2, 64, then a 3x3/2 max pool; conv2_x ... conv5_x on 224x224 ImageNet.
    "imagenet": Stem(64, 7, 2, True, STAGE_PLANES, 224, 32, "B", 1000),
    # Section 4.2: "The first layer is 3x3 convolutions", then 6n layers on maps of 32, 16 and
    # 8 with 16, 32 and 64 filters, subsampling by stride 2; "we use identity shortcuts in all
    # cases (i.e., option A)". CIFAR-10's 10 classes. Min 8: a 2x2 final map.
    "cifar": Stem(16, 3, 1, False, (16, 32, 64), 32, 8, "A", 10),
    # SENet-154 (Hu et al., appendix): "the first 7x7 convolutional layer was replaced with
    # three consecutive 3x3 convolutional layers", 64, 64 and 128 wide (the authors' release,
    # timm's deep stem), then Table 1's max pool.
    "deep": Stem(128, 3, 2, True, STAGE_PLANES, 224, 32, "B", 1000, deep=(64, 64)),
}


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
    se_reduction: int = None  # r of a squeeze-excitation on the residual branch, or None
    reduce_first: int = 1  # the first 1x1 of a bottleneck has width // reduce_first channels
    projection_kernel: int = 1  # a strided projection shortcut's kernel

    @property
    def out_channels(self):
        return self.planes * EXPANSION[self.kind]

    @property
    def width(self):
        # ResNeXt Table 1: C groups of d channels; ResNet is C=1, d=64 per 64 planes.
        return self.planes * self.width_per_group // 64 * self.groups


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
        # SENet-154's "3x3 convolutional layer with stride 2" replaces the strided 1x1
        # projection (appendix); unstrided projections stay 1x1 (the release, timm).
        kernel = block.projection_kernel if block.stride > 1 else 1
        return conv_bn(x, block.out_channels, kernel, block.stride, f"{block.name}_0", relu=False)
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
    ("ResNet v1.5") in the 3x3: `downsample_at`. SENet-154 halves the first 1x1 ("the number
    of output channels of the first 1x1 convolutional layer in each bottleneck building block
    was halved", appendix): `reduce_first`; the grouped 3x3 widens it back.
    """
    s1, s3 = (block.stride, 1) if block.downsample_at == "1x1" else (1, block.stride)
    if block.form == "c":
        x = conv_bn(x, block.width // block.reduce_first, 1, s1, f"{block.name}_1")
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
    """F(x) + shortcut(x), then ReLU; a plain net (shortcut None) is F(x) then ReLU.

    SENet (Hu et al. Fig. 3): the squeeze-excitation rescales the residual branch's channels
    after its last BN, before the addition; its bottleneck is C / r of the branch's C output
    channels (section 3.2, r = 16 in every SENet: Table 1). timm's `seresnet*` rounds C / r to
    a multiple of 8 and its `legacy_seresnet*` do not: the same for every bottleneck width
    (C = 256 ... 2048); for basic blocks (C = 64) the paper's C / r = 4 is the legacy's.
    """
    fx = RESIDUALS[block.kind](x, block)
    if block.se_reduction is not None:
        reduced = block.out_channels // block.se_reduction
        fx = SqueezeExcite(reduced, name=f"{block.name}_se")(fx)
    if block.shortcut is not None:
        fx = keras.layers.Add(name=f"{block.name}_add")([shortcut(x, block), fx])
    return keras.layers.ReLU(name=f"{block.name}_out")(fx)


def body(x, config):
    """conv1: 7x7/2, 64; pool1: 3x3/2 max pool; conv2_x ... conv5_x (Table 1). The CIFAR stem:
    conv1 3x3, 16; conv2_x ... conv4_x (section 4.2). SENet-154's deep stem: conv1_1 (3x3/2,
    64), conv1_2 (3x3, 64), conv1_3 (3x3, 128)."""
    stem = STEMS[config.stem]
    if stem.deep:
        for index, filters in enumerate(stem.deep + (stem.filters,), start=1):
            x = conv_bn(x, filters, 3, stem.stride if index == 1 else 1, f"conv1_{index}")
        endpoints = {"conv1": x}
    else:
        endpoints = {"conv1": conv_bn(x, stem.filters, stem.kernel, stem.stride, "conv1")}
    x = endpoints["conv1"]
    if stem.max_pool:
        # Caffe's pooling rounds its output size up ("ceil"): the last window runs past the
        # bottom and right edges, which a zero pad there equals (after ReLU every value is
        # >= 0); torchvision's, timm's and keras.applications' pad one pixel on each side.
        # The same size either way, the windows one pixel apart.
        pad = 1 if config.pool1 == "padded" else ((0, 1), (0, 1))
        x = keras.layers.ZeroPadding2D(pad, name="pool1_pad")(x)
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
                se_reduction=config.se_reduction,
                reduce_first=config.reduce_first,
                projection_kernel=config.projection_kernel,
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
    # SENet's columns (Hu et al. Table 1, appendix): the squeeze-excitation's r (None: none),
    # SENet-154's halved first 1x1, 3x3 strided projections and dropout before the classifier.
    se_reduction: int = None
    reduce_first: int = 1
    projection_kernel: int = 1
    dropout: float = 0.0
    pool1: str = "padded"  # POOL1

    @property
    def depth(self):
        # Weighted layers: the stem's convs, the blocks' and the classifier.
        stem = 1 + len(STEMS[self.stem].deep)
        return stem + 1 + sum(self.depths) * (2 if self.kind == "basic" else 3)


def configure(row, *, depths, shortcut, downsample_at, block_form, pool1):
    """The row with the caller's options checked and applied (the row's stage depths, shortcut
    B by default for residual nets, the row's downsampling position)."""
    depths = _core.check_depths(depths, row.depths)
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
    if pool1 not in POOL1 or (not STEMS[row.stem].max_pool and pool1 != "padded"):
        accepted = POOL1 if STEMS[row.stem].max_pool else ("padded",)
        raise ValueError(
            f"pool1={pool1!r} is invalid for {row.stem} nets; accepted: {accepted} (the "
            "CIFAR nets have no max pool)."
        )
    config = dataclasses.replace(
        row,
        depths=depths,
        shortcut=shortcut,
        downsample_at=downsample_at,
        block_form=block_form,
        pool1=pool1,
    )
    stem = STEMS[row.stem]
    return _core.Architecture(
        config,
        default_size=stem.default_size,
        min_size=stem.min_size,
        head=_heads.pool_head(dropout=row.dropout),
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
    _core.Option(
        "pool1",
        "padded",
        'How the 3x3/2 max pool after conv1 meets the map\'s edges: "padded" (a pixel on '
        'each side, as torchvision, timm and keras.applications) or "ceil" (Caffe\'s output '
        "size rounded up: the authors' Caffe releases of ResNet and SENet, timm's "
        "legacy_seresnet* and legacy_senet154); the same output size, windows one pixel "
        'apart. The CIFAR nets (no max pool) take only "padded".',
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
    if row.se_reduction is not None:
        what = f"squeeze-excitation (r={row.se_reduction}) {what}"
    if row.stem == "cifar":
        return (
            f"{row.depth}-layer {what} CIFAR net (section 4.2, Table 6: n={row.depths[0]}), "
            f"three stages of 16, 32, 64 filters, {row.kind} blocks.\n\n"
            "32x32 input, 3x3 conv stem, global average pooling head, 10 classes."
        )
    if row.stem == "deep":
        return (
            f"SENet-{row.depth}: {row.depth}-layer {what} net, stages {row.depths} of "
            "bottleneck blocks with a halved first 1x1, a 3-conv stem (64, 64, 128) and 3x3 "
            "downsampling projections (appendix).\n\n"
            f"224x224 input, global average pooling, dropout {row.dropout} before the "
            "classifier."
        )
    return (
        f"{row.depth}-layer {what} net, stages {row.depths} of {row.kind} blocks.\n\n"
        "224x224 input, global average pooling head."
    )
