"""EfficientNet: Tan & Le, "EfficientNet: Rethinking Model Scaling for Convolutional Neural
Networks", ICML 2019, Table 1 (the B0 baseline), section 3.3 (compound scaling) and the
scaling rows of its release (tensorflow/tpu models/official/efficientnet/
efficientnet_builder.py); EfficientNet-Lite as the same release's lite/efficientnet_lite_builder.py.

B0's stages of mobile inverted bottlenecks (MBConv, MnasNet's block: MobileNetV2's inverted
residual with squeeze-and-excitation) are scaled by a row's width (channels x w, rounded to a
multiple of 8) and depth (a stage's repeats x d, rounded up). The Lite models remove SE, use
ReLU6 instead of SiLU (swish) and keep the stem, the head and the first and last stages'
repeats unscaled (fix_head_stem).

Layer names are keras.applications' (stem_conv, block{stage}{a, b, ...}_expand_conv, _dwconv,
_se, _project_conv, top_conv): its files convert by name, torchvision's efficientnet_b* and
timm's tf_efficientnet_* through name maps. Blocks reuse MobileNet's units
(keras_classics/models/mobilenet/units.py: the conv + BN units and the two padding
conventions).
"""

import dataclasses
import math
import re

import keras

from keras_classics.layers.squeeze_excite import SqueezeExcite
from keras_classics.layers.stochastic_depth import StochasticDepth
from keras_classics.models import _core
from keras_classics.models.mobilenet.units import (
    Convention,
    check_convention,
    check_dropout,
    conv_bn,
    depthwise_bn,
    make_divisible,
)
from keras_classics.models.mobilenet.weights import torch_plan
from keras_classics.records.augmentation import Augmentation
from keras_classics.records.input_config import InputConfig
from keras_classics.records.recipe import Recipe
from keras_classics.records.registry import ReplicaCheck
from keras_classics.weights import cards, conversion, keras_layout, torch_layout

PAPER = "Tan & Le 2019, EfficientNet, Table 1 and section 3.3"
LITE_PAPER = "Tan & Le 2019, EfficientNet; EfficientNet-Lite (tensorflow/tpu release)"


@dataclasses.dataclass(frozen=True)
class Stage:
    """A row of Table 1 (B0): MBConv{expansion}, k x k, channels, layers, first stride."""

    expansion: int
    kernel: int
    filters: int
    repeats: int
    stride: int


# Table 1: stage 1 is the 3x3 stem conv of 32, stage 9 the 1x1 conv of 1280 (STEM, TOP);
# stages 2-8 are these MBConv rows (operator, resolution, channels, layers).
STAGES = (
    Stage(1, 3, 16, 1, 1),
    Stage(6, 3, 24, 2, 2),
    Stage(6, 5, 40, 2, 2),
    Stage(6, 3, 80, 3, 2),
    Stage(6, 5, 112, 3, 1),
    Stage(6, 5, 192, 4, 2),
    Stage(6, 3, 320, 1, 1),
)
STEM = 32
TOP = 1280
SE_RATIO = 0.25  # of the block's input channels (MnasNet's and the release's se_ratio)
# Eight stride-2 steps would need 256; keras.applications accepts 32 (a 1x1 final map).
MIN_SIZE = 32


@dataclasses.dataclass(frozen=True)
class Config:
    """One row of the compound-scaling table and the options of one build."""

    width: float  # channel multiplier w
    depth: float  # repeat multiplier d
    resolution: int  # the row's input side r
    dropout: float  # before the classifier
    lite: bool = False
    drop_path_rate: float = 0.0  # configure() sets the option's
    convention: str = "tf"
    bn_epsilon: float = 1e-3
    depths: tuple = ()  # each stage's repeats, when not the row's scaled ones


def round_filters(filters, width):
    """Section 3.3's width scaling as the release rounds it (efficientnet_model.py
    round_filters, keras.applications' and torchvision's too): the nearest multiple of 8 of
    filters x w, never below 90% of it."""
    return make_divisible(filters * width, 8)


def round_repeats(repeats, depth):
    """Section 3.3's depth scaling as the release rounds it: up (math.ceil)."""
    return int(math.ceil(repeats * depth))


def stage_repeats(config):
    """Each stage's blocks: the caller's `depths`, else Table 1's scaled by d (the Lite
    models keep the first and last stages' repeats, as the release's fix_head_stem)."""
    if config.depths:
        return config.depths
    last = len(STAGES) - 1
    return tuple(
        stage.repeats
        if config.lite and index in (0, last)
        else round_repeats(stage.repeats, config.depth)
        for index, stage in enumerate(STAGES)
    )


# The release's and keras.applications' BatchNormalization: momentum 0.99, epsilon 1e-3
# (section 5.2); torchvision's efficientnet_b0 ... b4 use torch's epsilon 1e-5 (its b5 ...
# b7, ported from TensorFlow, 1e-3): the `bn_epsilon` option. "tf": TensorFlow's 'same'
# padding (keras.applications' correct_pad zero padding + 'valid', timm's Conv2dSame), asymmetric
# when strided; "torch": k // 2 on every side (torchvision).
def convention_of(config):
    return Convention(config.convention, config.convention == "torch", config.bn_epsilon, 0.99)


def mbconv(x, expansion, kernel, filters, stride, rate, config, convention, prefix):
    """The MBConv block (MnasNet's; Table 1): 1x1 expansion (none where the expansion is
    1), k x k depthwise (strided in a stage's first block), squeeze-and-excitation of 0.25 x
    the block's input channels with SiLU (not in Lite), 1x1 linear projection, and where the
    shapes agree the input added after stochastic depth at `rate` (section 5.2's drop
    connect)."""
    act = "relu6" if config.lite else "silu"
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
    if not config.lite:
        x = SqueezeExcite(
            max(1, int(in_channels * SE_RATIO)),
            activation="silu",
            gate="sigmoid",
            name=f"{prefix}se",
        )(x)
    x = conv_bn(
        x, filters, 1, 1, convention, f"{prefix}project_conv", f"{prefix}project_bn", None, None
    )
    if stride == 1 and in_channels == filters:
        if rate > 0:
            x = StochasticDepth(rate, name=f"{prefix}drop")(x)
        x = keras.layers.Add(name=f"{prefix}add")([x, inputs])
    return x


def body(x, config):
    """Table 1 scaled: the 3x3/2 stem conv, seven stages of MBConv blocks, the 1x1 top conv
    (BN and SiLU after each conv; ReLU6 in Lite). Block i of N (counting from 0 over the whole
    network) has stochastic depth drop_path_rate x i / N, as the release, keras.applications,
    torchvision and timm."""
    convention = convention_of(config)
    act = "relu6" if config.lite else "silu"
    stem = STEM if config.lite else round_filters(STEM, config.width)
    x = conv_bn(x, stem, 3, 2, convention, "stem_conv", "stem_bn", act, "stem_activation")
    endpoints = {"stem": x}
    repeats = stage_repeats(config)
    total = sum(repeats)
    index = 0
    for number, (stage, count) in enumerate(zip(STAGES, repeats), start=1):
        filters = round_filters(stage.filters, config.width)
        for j in range(count):
            x = mbconv(
                x,
                stage.expansion,
                stage.kernel,
                filters,
                stage.stride if j == 0 else 1,
                config.drop_path_rate * index / total,
                config,
                convention,
                f"block{number}{chr(ord('a') + j)}_",
            )
            index += 1
        endpoints[f"block{number}"] = x
    top = TOP if config.lite else round_filters(TOP, config.width)
    endpoints["top"] = conv_bn(
        x, top, 1, 1, convention, "top_conv", "top_bn", act, "top_activation"
    )
    return endpoints


def configure(row, *, drop_path_rate, dropout, convention, bn_epsilon, depths):
    if (
        isinstance(drop_path_rate, bool)
        or not isinstance(drop_path_rate, (int, float))
        or not 0 <= drop_path_rate < 1
    ):
        raise ValueError(
            f"drop_path_rate={drop_path_rate!r} is invalid; accepted: a number in [0, 1)."
        )
    dropout = row.dropout if dropout is None else dropout
    check_dropout(dropout)
    if isinstance(bn_epsilon, bool) or not isinstance(bn_epsilon, float) or bn_epsilon <= 0:
        raise ValueError(
            f"bn_epsilon={bn_epsilon!r} is invalid; accepted: a positive float (1e-3: the "
            "release, keras.applications, timm, torchvision's b5-b7; 1e-5: torchvision's b0-b4)."
        )
    scaled = stage_repeats(row)
    config = dataclasses.replace(
        row,
        drop_path_rate=float(drop_path_rate),
        dropout=dropout,
        convention=check_convention(convention),
        bn_epsilon=bn_epsilon,
        depths=() if depths is None else _core.check_depths(depths, scaled),
    )
    steps = (_core.GlobalPool("avg_pool"),)
    if dropout:
        steps += (_core.Dropout(dropout, "top_dropout"),)
    return _core.Architecture(
        config, default_size=row.resolution, min_size=MIN_SIZE, head=_core.Head(steps)
    )


# Section 5.2: stochastic depth with survival probability 0.8, the builders' default and the
# paper recipe's rate.
STOCHASTIC_DEPTH = 0.2
OPTIONS = (
    _core.Option(
        "drop_path_rate",
        STOCHASTIC_DEPTH,
        "Stochastic depth (section 5.2: survival probability 0.8; keras.applications' "
        "drop_connect_rate, timm's drop_path_rate): block i of N (from 0) drops its residual "
        "branch at drop_path_rate * i / N in training; 0 for none.",
    ),
    _core.Option(
        "dropout",
        None,
        "Dropout before the classifier; None for the row's (0.2 for B0 ... 0.5 for B7).",
    ),
    _core.Option(
        "convention",
        "tf",
        "\"tf\": TensorFlow 'same' padding (asymmetric when strided), as the release, "
        'keras.applications and timm\'s tf_efficientnet_*; "torch": symmetric padding, as '
        "torchvision's efficientnet_b*.",
    ),
    _core.Option(
        "bn_epsilon",
        1e-3,
        "BatchNormalization epsilon: 1e-3 as the release (section 5.2); torchvision's "
        "efficientnet_b0 ... b4 weights need 1e-5.",
    ),
    _core.Option(
        "depths",
        None,
        "Blocks in each of the seven MBConv stages (None: Table 1's scaled by the row's depth "
        "multiplier), e.g. (1, 1, 1, 1, 1, 1, 1).",
    ),
)


def summary(row):
    name = "EfficientNet-Lite" if row.lite else "EfficientNet"
    blocks = "MBConv blocks without SE, ReLU6" if row.lite else "MBConv blocks with SE, SiLU"
    return (
        f"{name}: width x{row.width}, depth x{row.depth} of B0 (Table 1), {blocks}; "
        f"stage repeats {stage_repeats(row)}.\n\n"
        f"{row.resolution}x{row.resolution} input, global average pooling head, dropout "
        f"{row.dropout}."
    )


# Training. Section 5.2: RMSProp decay 0.9, momentum 0.9, BN momentum 0.99, weight decay 1e-5,
# LR 0.256 decayed by 0.97 every 2.4 epochs, SiLU, AutoAugment, stochastic depth with survival
# probability 0.8 (the drop_path_rate option), dropout 0.2 (B0) to 0.5 (B7). The release's
# main.py adds what the paper leaves out: a 5-epoch linear warm-up, 350 epochs, EMA of the
# weights 0.9999, label smoothing 0.1, RMSProp epsilon 1e-3, and its LR of 0.016 per 256 images
# (0.256 at the paper's batch 4096; the TPU default batch 2048 gets 0.128). Its weight decay
# leaves out the BN parameters (not the biases: a recipe exempts both).
# AutoAugment is not in this package; the release's RandAugment checkpoints (N=2, M=17 for B5,
# M=28 for B7) use TensorFlow's magnitudes beyond this package's 0-10 scale (Cubuk et al.'s),
# so the recipe keeps the Inception crop and flip without either (--randaugment adds one).
RECIPE = Recipe(
    "Tan & Le 2019, section 5.2; tensorflow/tpu efficientnet main.py",
    "rmsprop",
    0.256,
    4096,
    350,
    "exponential",
    1e-5,
    decay_rate=0.97,
    decay_epochs=2.4,
    decay_norm_and_bias=False,
    label_smoothing=0.1,
    rmsprop_epsilon=1e-3,
    warmup_epochs=5,
    ema_decay=0.9999,
    bn_momentum=0.99,
    stochastic_depth=STOCHASTIC_DEPTH,
)
# The release's preprocessing.py: a distorted bounding-box crop of 8-100% of the area at
# aspect 3/4-4/3, resized, flipped (Inception's), before AutoAugment.
AUGMENTATION = Augmentation(
    "efficientnet", "Tan & Le 2019, section 5.2; tensorflow/tpu preprocessing.py", "area"
)


def _family(paper, mode):
    return _core.Family(
        "efficientnet",
        paper,
        configure,
        body,
        OPTIONS,
        mode=mode,
        describe=summary,
        augmentation=AUGMENTATION,
        recipe=RECIPE,
    )


# The B models take ImageNet mean/std inputs (keras.applications' in-model normalisation,
# torchvision, timm's tf_efficientnet_* but the AdvProp weights); the Lite models [-1, 1].
FAMILY = _family(PAPER, "torch")
LITE = _family(LITE_PAPER, "tf")

# Compound scaling (width, depth, resolution, dropout): efficientnet_builder.py's
# efficientnet_params, and lite/efficientnet_lite_builder.py's for Lite.
EfficientNetB0 = FAMILY.register(
    "efficientnet_b0",
    "EfficientNetB0",
    Config(1.0, 1.0, 224, 0.2),
    # Replica equivalence in float64 at 32 px with one block a stage: the stem, both block
    # kinds (MBConv1 and MBConv6, 3x3 and 5x5, strided and not), SE and the head, at a cost
    # the CI bears; stochastic depth off (its masks are compared by the layer's own tests).
    replica_check=ReplicaCheck(
        32,
        builder_options=(("depths", (1, 2, 1, 1, 1, 1, 1)), ("drop_path_rate", 0.0)),
    ),
)
EfficientNetB1 = FAMILY.register("efficientnet_b1", "EfficientNetB1", Config(1.0, 1.1, 240, 0.2))
EfficientNetB2 = FAMILY.register("efficientnet_b2", "EfficientNetB2", Config(1.1, 1.2, 260, 0.3))
EfficientNetB3 = FAMILY.register("efficientnet_b3", "EfficientNetB3", Config(1.2, 1.4, 300, 0.3))
EfficientNetB4 = FAMILY.register("efficientnet_b4", "EfficientNetB4", Config(1.4, 1.8, 380, 0.4))
EfficientNetB5 = FAMILY.register("efficientnet_b5", "EfficientNetB5", Config(1.6, 2.2, 456, 0.4))
EfficientNetB6 = FAMILY.register("efficientnet_b6", "EfficientNetB6", Config(1.8, 2.6, 528, 0.5))
EfficientNetB7 = FAMILY.register("efficientnet_b7", "EfficientNetB7", Config(2.0, 3.1, 600, 0.5))
# The Lite release's resolutions (280 and 300 for Lite3 and Lite4; timm's weight cards
# evaluate them at 300 and 380).
EfficientNetLite0 = LITE.register(
    "efficientnet_lite0", "EfficientNetLite0", Config(1.0, 1.0, 224, 0.2, lite=True)
)
EfficientNetLite1 = LITE.register(
    "efficientnet_lite1", "EfficientNetLite1", Config(1.0, 1.1, 240, 0.2, lite=True)
)
EfficientNetLite2 = LITE.register(
    "efficientnet_lite2", "EfficientNetLite2", Config(1.1, 1.2, 260, 0.3, lite=True)
)
EfficientNetLite3 = LITE.register(
    "efficientnet_lite3", "EfficientNetLite3", Config(1.2, 1.4, 280, 0.3, lite=True)
)
EfficientNetLite4 = LITE.register(
    "efficientnet_lite4", "EfficientNetLite4", Config(1.4, 1.8, 300, 0.3, lite=True)
)

# --- conversion: torchvision, timm, keras.applications (keras_classics/weights) ------------

_BLOCK = re.compile(r"block(\d+)([a-z])_")


def _blocks(names):
    """{our block prefix: (stage 1-7, index 0 ...)} of the layer names present."""
    found = {}
    for name in names:
        match = _BLOCK.match(name)
        if match:
            found[match[0]] = (int(match[1]), ord(match[2]) - ord("a"))
    return found


def _weighted(model):
    return {layer.name for layer in model.layers if layer.weights}


def torchvision_names(model):
    """stem -> features.0.{0, 1}; block{s}{j} -> features.{s}.{j}.block.{k}, k counting its
    units ([expand], depthwise, SE (fc1, fc2), project; each conv .0, its BN .1); top ->
    features.8.{0, 1}; predictions -> classifier.1."""
    present = _weighted(model)
    names = {
        "stem_conv": "features.0.0",
        "stem_bn": "features.0.1",
        "top_conv": f"features.{len(STAGES) + 1}.0",
        "top_bn": f"features.{len(STAGES) + 1}.1",
        "predictions": "classifier.1",
    }
    for prefix, (stage, index) in _blocks(present).items():
        units = [u for u in ("expand", "dw", "se", "project") if _unit(prefix, u) in present]
        for k, unit in enumerate(units):
            module = f"features.{stage}.{index}.block.{k}"
            if unit == "se":
                names[f"{prefix}se"] = module
            else:
                conv, bn = _UNIT_LAYERS[unit]
                names[prefix + conv] = f"{module}.0"
                names[prefix + bn] = f"{module}.1"
    return {k: v for k, v in names.items() if k in present}


# A unit's (conv, BN) layer suffixes.
_UNIT_LAYERS = {
    "expand": ("expand_conv", "expand_bn"),
    "dw": ("dwconv", "bn"),
    "project": ("project_conv", "project_bn"),
}


def _unit(prefix, unit):
    return prefix + ("se" if unit == "se" else _UNIT_LAYERS[unit][0])


def timm_names(model):
    """stem -> conv_stem, bn1; block{s}{j} -> blocks.{s-1}.{j}: an expanding block is timm's
    InvertedResidual (conv_pw, bn1, conv_dw, bn2, se, conv_pwl, bn3), a block without
    expansion its DepthwiseSeparableConv (conv_dw, bn1, se, conv_pw, bn2); SE -> se.conv_reduce,
    se.conv_expand; top -> conv_head, bn2; predictions -> classifier."""
    present = _weighted(model)
    names = {
        "stem_conv": "conv_stem",
        "stem_bn": "bn1",
        "top_conv": "conv_head",
        "top_bn": "bn2",
        "predictions": "classifier",
    }
    for prefix, (stage, index) in _blocks(present).items():
        module = f"blocks.{stage - 1}.{index}"
        if f"{prefix}expand_conv" in present:
            parts = {
                "expand_conv": "conv_pw",
                "expand_bn": "bn1",
                "dwconv": "conv_dw",
                "bn": "bn2",
                "project_conv": "conv_pwl",
                "project_bn": "bn3",
            }
        else:
            parts = {
                "dwconv": "conv_dw",
                "bn": "bn1",
                "project_conv": "conv_pw",
                "project_bn": "bn2",
            }
        for ours, theirs in parts.items():
            names[prefix + ours] = f"{module}.{theirs}"
        names[f"{prefix}se"] = (f"{module}.se.conv_reduce", f"{module}.se.conv_expand")
    return {k: v for k, v in names.items() if k in present}


def keras_plan(model):
    """Same layer names; our SqueezeExcite reads keras.applications' se_reduce and se_expand
    1x1 convolutions."""
    plan = {}
    for layer in model.layers:
        if not layer.weights:
            continue
        if isinstance(layer, SqueezeExcite):
            plan[layer.name] = keras_layout.squeeze_excite_takes(
                f"{layer.name}_reduce", f"{layer.name}_expand"
            )
        else:
            plan[layer.name] = keras_layout.variables(layer, layer.name)
    return plan


def _drop_normalization(state):
    """keras.applications' model normalises its input inside (Rescaling 1/255, then a
    Normalization layer whose weights hold the ImageNet mean and, in its published files, the
    std where the variance belongs: tensorflow/tensorflow#49930, which its builder corrects
    with a further Rescaling by 1/sqrt(std) when weights="imagenet"). Together they are
    ImageNet mean/std normalisation, which our models take outside (preprocess_input "torch"):
    the Normalization layer's variables are left out."""
    return {k: v for k, v in state.items() if not re.match(r"normalization(_\d+)?/", k)}


# torchvision's EfficientNet weights: bicubic resize, ImageNet mean/std (its transforms).
TORCHVISION_BICUBIC = InputConfig("torch", 224, interpolation="bicubic")
# timm's tf_efficientnet_* configs: ImageNet mean/std (the AdvProp "ap" weights: Inception's
# [-1, 1], their own rows), bicubic, each row's size and crop; Lite mean = std = 0.5 ([-1, 1]).
# (size, crop) of B0 ... B7; (size, crop, interpolation, top-1, top-5) of Lite0 ... Lite4
# (results-imagenet.csv's accuracies, for the cards below).
TIMM_SIZES = ((224, 0.875), (240, 0.882), (260, 0.890), (300, 0.904), (380, 0.922))
TIMM_SIZES += ((456, 0.934), (528, 0.942), (600, 0.949))
TIMM_LITE = (
    (224, 0.875, "bicubic", 74.846, 92.180),
    (240, 0.882, "bicubic", 76.674, 93.232),
    (260, 0.890, "bicubic", 77.470, 93.756),
    (300, 0.904, "bilinear", 79.808, 94.908),
    (380, 0.920, "bilinear", 81.540, 95.668),
)


def timm_input(mode, b):
    size, crop = TIMM_SIZES[b]
    return InputConfig(mode, size, crop_ratio=crop, interpolation="bicubic")


def timm_lite_input(n):
    size, crop, interpolation, _, _ = TIMM_LITE[n]
    return InputConfig("tf", size, crop_ratio=crop, interpolation=interpolation)


TF_SAME = dict(convention="tf", bn_epsilon=1e-3)
# keras.applications documents each row's resolution as its input size (its builders' default).
KERAS_SIZES = (224, 240, 260, 300, 380, 456, 528, 600)

_B = range(8)
conversion.register_conversions(
    *(
        torch_layout.row(
            "torchvision",
            f"efficientnet_b{b}",
            f"efficientnet_b{b}",
            torch_plan(torchvision_names),
            ("classifier.",),
            input=TORCHVISION_BICUBIC,
            convention="torch",
            # torchvision's b0 ... b4 use torch's BN epsilon, its b5 ... b7 TensorFlow's.
            bn_epsilon=1e-5 if b < 5 else 1e-3,
        )
        for b in _B
    ),
    *(
        torch_layout.row(
            "timm",
            f"tf_efficientnet_b{b}{tag}",
            f"efficientnet_b{b}",
            torch_plan(timm_names),
            ("classifier.",),
            input=timm_input(mode, b),
            **TF_SAME,
        )
        # The AdvProp weights ("ap") take Inception's [-1, 1] inputs, the others ImageNet's.
        for tag, mode in (("", "torch"), (".ap_in1k", "tf"))
        for b in _B
    ),
    *(
        torch_layout.row(
            "timm",
            f"tf_efficientnet_lite{n}",
            f"efficientnet_lite{n}",
            torch_plan(timm_names),
            ("classifier.",),
            input=timm_lite_input(n),
            **TF_SAME,
        )
        for n in range(5)
    ),
    *(
        keras_layout.row(
            f"EfficientNetB{b}",
            f"efficientnet_b{b}",
            keras_plan,
            ("predictions/",),
            input=InputConfig("torch", size),
            rename=_drop_normalization,
            builder_kwargs=TF_SAME,
        )
        for b, size in enumerate(KERAS_SIZES)
    ),
)

# --- weight cards -------------------------------------------------------------------------

# Trainable parameters (tests/references.py has the independent counts).
PARAMS = (5_288_548, 7_794_184, 9_109_994, 12_233_232, 19_341_616, 30_389_784, 43_040_704)
PARAMS += (66_347_960,)
LITE_PARAMS = (4_652_008, 5_416_680, 6_092_072, 8_197_096, 13_006_568)

# torchvision's Weights enums (torchvision 0.29): file, acc@1, acc@5, _ops (GMACs), _file_size
# (MB), resize, crop, and the recipe link; all bicubic but b1's V2 (bilinear).
_TORCHVISION = (
    (
        0,
        "IMAGENET1K_V1",
        "efficientnet_b0_rwightman-7f5810bc.pth",
        77.692,
        93.532,
        0.386,
        20.451,
        256,
        224,
    ),
    (
        1,
        "IMAGENET1K_V1",
        "efficientnet_b1_rwightman-bac287d4.pth",
        78.642,
        94.186,
        0.687,
        30.134,
        256,
        240,
    ),
    (1, "IMAGENET1K_V2", "efficientnet_b1-c27df63c.pth", 79.838, 94.934, 0.687, 30.136, 255, 240),
    (
        2,
        "IMAGENET1K_V1",
        "efficientnet_b2_rwightman-c35c1473.pth",
        80.608,
        95.310,
        1.088,
        35.174,
        288,
        288,
    ),
    (
        3,
        "IMAGENET1K_V1",
        "efficientnet_b3_rwightman-b3899882.pth",
        82.008,
        96.054,
        1.827,
        47.184,
        320,
        300,
    ),
    (
        4,
        "IMAGENET1K_V1",
        "efficientnet_b4_rwightman-23ab8bcd.pth",
        83.384,
        96.594,
        4.394,
        74.489,
        384,
        380,
    ),
    (
        5,
        "IMAGENET1K_V1",
        "efficientnet_b5_lukemelas-1a07897c.pth",
        83.444,
        96.628,
        10.266,
        116.864,
        456,
        456,
    ),
    (
        6,
        "IMAGENET1K_V1",
        "efficientnet_b6_lukemelas-24a108a5.pth",
        84.008,
        96.916,
        19.068,
        165.362,
        528,
        528,
    ),
    (
        7,
        "IMAGENET1K_V1",
        "efficientnet_b7_lukemelas-c5b4e57e.pth",
        84.122,
        96.908,
        37.746,
        254.675,
        600,
        600,
    ),
)


def _torchvision_card(b, tag, file, top1, top5, gmacs, size_mb, resize, crop):
    recipe = (
        "issues/3995#new-recipe-with-lr-wd-crop-tuning"
        if tag == "IMAGENET1K_V2"
        else "tree/main/references/classification#efficientnet-v1"
    )
    card = cards.torchvision_card(
        f"efficientnet_b{b}", tag, file, top1, top5, PARAMS[b], gmacs, size_mb, resize, crop, recipe
    )
    if tag == "IMAGENET1K_V2":
        card = dataclasses.replace(card, input=card.input.replace(interpolation="bilinear"))
    return card


# timm's results-imagenet.csv (huggingface/pytorch-image-models results/): tag, top-1, top-5 at
# the pretrained config's size and crop (bicubic, but lite3 and lite4 bilinear). B6 and B7
# have no "in1k" tag, only B5 and B7 an "ra_in1k" (RandAugment) one.
_TIMM = {
    "aa_in1k": (
        (76.882, 93.270),
        (78.840, 94.202),
        (80.074, 94.906),
        (81.648, 95.724),
        (83.040, 96.298),
        (83.696, 96.712),
        (84.124, 96.890),
        (84.424, 96.908),
    ),
    "ap_in1k": (
        (77.100, 93.258),
        (79.288, 94.316),
        (80.300, 95.032),
        (81.842, 95.614),
        (83.246, 96.392),
        (84.258, 96.984),
        (84.794, 97.138),
        (85.132, 97.256),
    ),
    "ns_jft_in1k": (
        (78.680, 94.372),
        (81.388, 95.756),
        (82.412, 96.238),
        (84.054, 96.926),
        (85.156, 97.482),
        (86.096, 97.744),
        (86.476, 97.864),
        (86.850, 98.080),
    ),
    "in1k": (
        (76.542, 93.008),
        (78.546, 94.096),
        (79.612, 94.714),
        (80.878, 95.308),
        (82.598, 96.132),
        (83.170, 96.534),
    ),
    "ra_in1k": {5: (83.834, 96.764), 7: (84.926, 97.220)},
}


def _timm_cards():
    for tag, figures in _TIMM.items():
        items = figures.items() if isinstance(figures, dict) else enumerate(figures)
        for b, (top1, top5) in items:
            size, crop = TIMM_SIZES[b]
            yield cards.timm_card(
                f"tf_efficientnet_b{b}.{tag}",
                top1,
                top5,
                size,
                crop,
                "bicubic",
                "apache-2.0",
                PARAMS[b],
            )
    for n, (size, crop, interpolation, top1, top5) in enumerate(TIMM_LITE):
        yield cards.timm_card(
            f"tf_efficientnet_lite{n}.in1k",
            top1,
            top5,
            size,
            crop,
            interpolation,
            "apache-2.0",
            LITE_PARAMS[n],
        )


# keras.applications' files (its source's BASE_WEIGHTS_PATH, a bucket other than its other
# models', and WEIGHTS_HASHES' include_top md5); accuracies and sizes from keras.io's
# applications table (the paper's Table 2 figures, at each row's resolution).
KERAS_URL = "https://storage.googleapis.com/keras-applications/"
_KERAS = (
    ("902e53a9f72be733fc0bcb005b3ebbac", 77.1, 93.3, 29),
    ("1d254153d4ab51201f1646940f018540", 79.1, 94.4, 31),
    ("b15cce36ff4dcbd00b6dd88e7857a6ad", 80.1, 94.9, 36),
    ("ffd1fdc53d0ce67064dc6a9c7960ede0", 81.6, 95.7, 48),
    ("18c95ad55216b8f92d7e70b3a046e2fc", 82.9, 96.4, 75),
    ("ace28f2a6363774853a83a0b21b9421a", 83.6, 96.7, 118),
    ("165f6e37dce68623721b423839de8be5", 84.0, 96.8, 166),
    ("8c03f828fec3ef71311cd463b6759d99", 84.3, 97.0, 256),
)
KERAS_LICENSE = "Apache-2.0 (the tensorflow/tpu EfficientNet release)"


def _keras_card(b, md5, top1, top5, size_mb):
    card = cards.keras_card(
        f"EfficientNetB{b}",
        f"efficientnetb{b}.h5",
        md5,
        top1,
        top5,
        size_mb,
        KERAS_LICENSE,
        PARAMS[b],
    )
    return dataclasses.replace(card, url=f"{KERAS_URL}efficientnetb{b}.h5")


cards.register_cards(
    *(_torchvision_card(*entry) for entry in _TORCHVISION),
    *_timm_cards(),
    *(_keras_card(b, *entry) for b, entry in enumerate(_KERAS)),
)
