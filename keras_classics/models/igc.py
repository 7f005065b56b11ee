"""IGC V1: Zhang, Qi, Xiao & Wang, "Interleaved Group Convolutions for Deep Neural Networks",
ICCV 2017: the interleaved group convolution and the paper's ImageNet table of 18-layer
networks with identity shortcuts ("+Ident."), which the authors' README reproduces.

The paper evaluates ImageNet on 18-layer nets only: ResNet-18's stem, four stages of two
two-layer residual blocks with identity shortcuts, each 3x3 convolution replaced by an
interleaved group convolution. The widths and groups here are those of the authors' released
MXNet networks (hellozting/InterleavedGroupConvolutions, `models/*/*-symbol.json`, the
checkpoints of the paper's table), which differ from their `network/resnet_igc_imgnet_d18.py`:
IGC-L4M32 and IGC-L16M16 keep the stem's width in the first stage (an identity first block),
IGC-L100M2's stem is 100 wide and its first block projects to 200 (docs/models/igc.md).
"""

import dataclasses

import keras

from keras_classics.layers import ChannelShuffle
from keras_classics.models import _core, _heads
from keras_classics.models._units import padded_conv
from keras_classics.records.augmentation import Augmentation
from keras_classics.records.recipe import Recipe
from keras_classics.records.registry import ReplicaCheck

PAPER = "Zhang et al. 2017, Interleaved Group Convolutions (IGC V1), ImageNet table"

# The release's BatchNorm: MXNet eps 2e-5, momentum 0.9 (the same convention as Keras').
BN = dict(epsilon=2e-5, momentum=0.9)


def conv(x, filters, kernel, stride, name, groups=1):
    """train_imagenet.py initialises every conv Xavier(gaussian, 'in', magnitude 2): He normal
    over the fan-in of one group; a strided conv pads symmetrically as MXNet's pad=(k // 2).
    The layer is `name`, the release's symbol name."""
    return padded_conv(x, filters, kernel, stride, name, groups, fan="fan_in", conv_name=name)


def igc(x, width, primary, stride, name, relu=True):
    """An interleaved group convolution + BN [+ ReLU]: the primary 3x3
    convolution in L = `primary` groups of M = width / L channels, the permutation that gives
    each of the M secondary groups one channel of every primary group, the secondary 1x1
    convolution in M groups of L, the permutation back; no BN between the two (the release).
    Layer names as the release's symbols: {name}_conv1, _reorder1, _conv2, _reorder2, _bn."""
    secondary = width // primary
    x = conv(x, width, 3, stride, f"{name}_conv1", groups=primary)
    x = ChannelShuffle(primary, name=f"{name}_reorder1")(x)
    x = conv(x, width, 1, 1, f"{name}_conv2", groups=secondary)
    x = ChannelShuffle(secondary, name=f"{name}_reorder2")(x)
    x = keras.layers.BatchNormalization(**BN, name=f"{name}_bn")(x)
    return keras.layers.ReLU(name=f"{name}_relu")(x) if relu else x


def block(x, width, primary, stride, name):
    """Two IGC layers + shortcut, then ReLU (ResNet's basic block). The shortcut is the
    identity where the shape holds ("+Ident."), else a 1x1 projection in `primary` groups + BN
    (the release's `proj`)."""
    shortcut = x
    if stride != 1 or x.shape[-1] != width:
        shortcut = conv(x, width, 1, stride, f"{name}_proj_conv", groups=primary)
        shortcut = keras.layers.BatchNormalization(**BN, name=f"{name}_proj_bn")(shortcut)
    x = igc(x, width, primary, stride, f"{name}_conv1")
    x = igc(x, width, primary, 1, f"{name}_conv2", relu=False)
    x = keras.layers.Add(name=f"{name}_add")([shortcut, x])
    return keras.layers.ReLU(name=f"{name}_relu")(x)


@dataclasses.dataclass(frozen=True)
class Config:
    """One IGC network of the paper's ImageNet table, as released: the stem's width, each
    stage's width and primary partitions L (the secondary M = width / L), the blocks per
    stage."""

    stem: int
    widths: tuple
    primary: tuple
    depths: tuple = (2, 2, 2, 2)


def body(x, config):
    """g0: 7x7/2 conv + BN + ReLU and a 3x3/2 max pool (ResNet-18's stem); g1 ... g4: the
    stages, the first block of g2 ... g4 strided (the release's names: g0, g{s}_b{i})."""
    x = conv(x, config.stem, 7, 2, "g0_conv")
    x = keras.layers.BatchNormalization(**BN, name="g0_bn")(x)
    endpoints = {"g0": keras.layers.ReLU(name="g0_relu")(x)}
    x = keras.layers.ZeroPadding2D(1, name="g0_pool_pad")(endpoints["g0"])
    x = keras.layers.MaxPooling2D(3, strides=2, name="g0_pool")(x)
    stages = zip(config.depths, config.widths, config.primary)
    for stage, (depth, width, primary) in enumerate(stages, start=1):
        for index in range(1, depth + 1):
            stride = 2 if index == 1 and stage > 1 else 1
            x = block(x, width, primary, stride, f"g{stage}_b{index}")
        endpoints[f"g{stage}"] = x
    return endpoints


def configure(row, *, depths):
    depths = _core.check_depths(depths, row.depths)
    # The release's head: a 7x7 average pool at 224 (= global) and fc_score with bias.
    return _core.Architecture(
        dataclasses.replace(row, depths=depths),
        default_size=224,
        min_size=32,
        head=_heads.pool_head(),
    )


OPTIONS = (
    _core.Option(
        "depths",
        None,
        "Blocks in g1 ... g4 (the released 18-layer nets' (2, 2, 2, 2) when None), as ResNet's "
        "depths; the paper evaluates ImageNet at 18 layers only.",
    ),
)


def summary(row):
    secondary = tuple(w // p for w, p in zip(row.widths, row.primary))
    return (
        f"IGC V1 18-layer network with identity shortcuts: stages of {row.widths} channels, "
        f"L = {row.primary} primary and M = {secondary} secondary partitions.\n\n"
        "224x224 input, global average pooling head. Widths as the authors' released MXNet "
        "network (docs/models/igc.md)."
    )


# Training: the authors' train_imagenet.py (the paper gives no ImageNet recipe of its own):
# NAG momentum 0.9, LR 0.1 at batch 256, x 0.1 every 30 epochs, weight decay 1e-4 on every
# weight, bias, gamma and beta (its Nesterov.set_wd_mult). The script's --num-epochs default is
# 120; the released checkpoints behind the paper's ImageNet table are those of epoch 95
# (`*-0095.params`), so 95 epochs, decayed at 30, 60 and 90.
RECIPE = Recipe(
    "Zhang et al. 2017, the authors' train_imagenet.py",
    "sgd",
    0.1,
    256,
    95,
    "steps",
    1e-4,
    milestones=(30, 60, 90),
    nesterov=True,  # the script's optimizer "nag"
)
# Augmentation, train_imagenet.py's ImageRecordIter: the image (stored at a shorter side of
# 480) scaled by U[0.533, 1], i.e. a shorter side in [256, 480], a random 224 crop, a flip and
# HSL jitter of (36, 50, 50) (random_h, random_s, random_l). ResNet's "scale" window is that
# rescale and crop; it crops squares, so the release's aspect jitter in [0.75, 1.25]
# (max_aspect_ratio=0.25) is left out (docs/models/igc.md).
AUGMENTATION = Augmentation(
    "igc",
    "Zhang et al. 2017, the authors' train_imagenet.py",
    "scale",
    scale=(256, 480),
    after_resize=("hsl_jitter",),
    hsl=(36, 50, 50),
)
IGC = _core.Family(
    "igc",
    PAPER,
    configure,
    body,
    OPTIONS,
    describe=summary,
    augmentation=AUGMENTATION,
    recipe=RECIPE,
)

# The ImageNet table's "+Ident." rows, as the release's symbol files: L stays while M doubles
# with the width (L4M32, L16M16), or M stays while L doubles (L100M2).
# Replica equivalence (keras_classics/training/equivalence.py) in float64, as ResNet-18's: with
# BatchNorm, float32's rounding makes the runs part whatever the strategy. One block per stage
# (as ResNeXt-50's check) holds every layer of the family at half the graph: the secondary
# convolutions' 32 to 256 groups are as many convolutions each, and the full depth took 11
# minutes on a shared 2-core CPU (worst difference 4.8e-8).
IGC_L4M32 = IGC.register(
    "igc_l4m32",
    "IGC_L4M32",
    Config(128, (128, 256, 512, 1024), (4,) * 4),
    replica_check=ReplicaCheck(32, builder_options=(("depths", (1, 1, 1, 1)),)),
)
IGC_L16M16 = IGC.register(
    "igc_l16m16", "IGC_L16M16", Config(256, (256, 512, 1024, 2048), (16,) * 4)
)
IGC_L100M2 = IGC.register(
    "igc_l100m2", "IGC_L100M2", Config(100, (200, 400, 800, 1600), (100, 200, 400, 800))
)
