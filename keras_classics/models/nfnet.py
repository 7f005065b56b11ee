"""Normalizer-free networks: NFNet-F0 ... F6 (Brock, De, Smith & Simonyan, "High-Performance
Large-Scale Image Recognition Without Normalization", ICML 2021, Table 1 and section 4) and
NF-ResNet-50 (Brock, De & Smith, "Characterizing signal propagation to close the performance
gap in unnormalized ResNets", ICLR 2021), as deepmind-research's nfnets/ defines them and
timm's nfnet.py ports them (NFNets: timm's dm_nfnet_f*, NF-ResNet-50: timm's nf_resnet50).

No batch normalisation: every convolution standardises its kernel (ScaledStdConv2D,
keras_classics/layers/ws_conv.py), activations are scaled by a gamma that keeps unit variance
for unit-Gaussian inputs, and each residual block is x + alpha * f(x / beta), where beta is
the expected standard deviation of x (it grows by alpha^2 in variance per block and resets to
1 + alpha^2 after each stage's first, "transition" block, whose shortcut reads the scaled
pre-activation). Layer names follow timm's modules: stem_conv1 ... stem_conv4 (NFNet's
16-32-64-128 stem; NF-ResNet's stem_conv, a 7x7 conv, and stem_pool), conv{2..5}_block{i}
with preact, down_pool, down_conv, conv1, act2, conv2, act2b, conv2b (NFNet's extra grouped
3x3), act3, conv3, se, drop and add, then final_conv (NFNet: 2 x 1536 channels) and
final_act.

Where the scales sit. A gamma-scaled activation (DeepMind's GELU x 1.7015043, ReLU
x 1.7139589) and a block's 1 / beta are constant factors on a convolution's input, so they
are applied as that convolution's kernel factor (ScaledStdConv2D gamma): one multiply of the
kernel instead of one of every activation, the same function. NFNet's final activation feeds
the pool, not a convolution: its gamma is the final_act_scale layer. NF-ResNet-50 follows
timm's nf_resnet50 (gamma_in_act=False), whose weights were trained that way: every
convolution's kernel carries the ReLU's gamma, the stem's too (it reads the image), and the
final ReLU is unscaled.
"""

import dataclasses
import math
import re

import keras

from keras_classics.layers import ScaledResidual, ScaledStdConv2D, SqueezeExcite, StochasticDepth
from keras_classics.layers.activations import gelu
from keras_classics.models import _core, _heads
from keras_classics.records.augmentation import Augmentation
from keras_classics.records.input_config import InputConfig
from keras_classics.records.recipe import Recipe
from keras_classics.records.registry import ReplicaCheck
from keras_classics.weights import cards, conversion, torch_layout
from keras_classics.weights.conversion import Take

PAPER = "Brock et al. 2021, High-Performance Large-Scale Image Recognition Without Normalization"
RESNET_PAPER = "Brock, De & Smith 2021, Characterizing signal propagation (NF-ResNets)"

# deepmind-research nfnets/base.py `nonlinearities`: the gamma that gives the activation of a
# unit Gaussian unit variance (timm's _nonlin_gamma).
GAMMA = {"gelu": 1.7015043497085571, "relu": 1.7139588594436646}
# timm's ScaledStdConv2d(Same) eps, added to the kernel's variance (NfCfg.std_conv_eps), which
# its ports of DeepMind's NFNet weights and its own NF-ResNet-50 weights were evaluated with;
# DeepMind's WSConv2D has none (only the 1e-4 floor, which ScaledStdConv2D keeps): with 1e-5
# the converted weights give timm's outputs (the conversion parity tests) and its accuracies.
WS_EPSILON = 1e-5
# Five stride-2 steps: 32 gives a 1x1 final map.
MIN_SIZE = 32


@dataclasses.dataclass(frozen=True)
class Config:
    """One network: a row of the table, and the options of one build."""

    depths: tuple  # blocks in conv2 ... conv5
    channels: tuple  # each stage's output channels
    train_size: int  # the paper's training resolution (base.py train_imsize)
    test_size: int  # its evaluation resolution (test_imsize): the builder's default input
    dropout: float  # before the classifier
    stem: str  # "deep" (NFNet: four 3x3 convs, 16-32-64-128) or "7x7_pool" (NF-ResNet)
    stem_channels: int
    bottleneck: float  # the bottleneck's width as a share of the block's output channels
    group_width: int = 0  # channels per group of the 3x3 convs; 0: ungrouped
    extra_conv: bool = False  # NFNet: a second grouped 3x3 conv (conv2b)
    se_ratio: float = 0.0  # NFNet: SE of half the output channels, its output x 2
    final_channels: int = 0  # NFNet: a final 1x1 conv to 2 x 1536 channels; 0: none
    activation: str = "gelu"
    gamma_in_act: bool = True  # see the module docstring
    skip_gain: bool = True  # DeepMind's NFNets: a trainable scalar per block, initialised 0
    same_padding: bool = True  # TensorFlow's SAME padding (DeepMind's); else symmetric
    alpha: float = 0.2
    drop_path_rate: float = 0.0

    @property
    def variant(self):
        return f"F{self.depths[0] - 1}" if self.stem == "deep" else "NF-ResNet-50"


@dataclasses.dataclass(frozen=True)
class Block:
    """What one normalizer-free bottleneck block needs to know besides its input."""

    name: str
    out_channels: int
    width: int  # the bottleneck's channels
    groups: int
    stride: int
    transition: bool  # a stage's first block: the shortcut is a projection of the preact
    beta: float  # 1 / the expected standard deviation of the block's input
    drop_rate: float  # stochastic depth


def ws_conv(x, filters, kernel, stride, name, config, scale, groups=1, gain_init=1.0):
    """A scaled weight-standardised conv whose input is multiplied by `scale` (the
    activation's gamma, a block's 1 / beta): folded into the kernel (module docstring).
    NF-ResNet's strided convs pad symmetrically as timm's ScaledStdConv2d, NFNet's as
    TensorFlow's SAME (DeepMind's, timm's ScaledStdConv2dSame)."""
    if not config.gamma_in_act:
        scale *= GAMMA[config.activation]
    padding = "same"
    if not config.same_padding and kernel > 1 and stride > 1:
        x = keras.layers.ZeroPadding2D(kernel // 2, name=f"{name}_pad")(x)
        padding = "valid"
    return ScaledStdConv2D(
        filters,
        kernel,
        strides=stride,
        padding=padding,
        groups=groups,
        gamma=scale,
        epsilon=WS_EPSILON,
        gain_init=gain_init,
        name=name,
    )(x)


def act_gamma(config):
    """The gamma the activations' consumers apply (1 when the convs carry it themselves)."""
    return GAMMA[config.activation] if config.gamma_in_act else 1.0


def activation(x, config, name):
    # The exact GELU (timm's F.gelu; DeepMind's JAX code used jax.nn.gelu's tanh form) in the
    # form every export converts (layers/activations.py).
    function = gelu if config.activation == "gelu" else config.activation
    return keras.layers.Activation(function, name=name)(x)


def stem(x, config):
    """NFNet: 3x3 convs of 16, 32, 64 and 128 channels, strides 2, 1, 1, 2, activations
    between them (base.py's stem; the first block's pre-activation follows the last).
    NF-ResNet: a 7x7/2 conv and a 3x3/2 max pool."""
    if config.stem == "deep":
        widths = [config.stem_channels // 8, config.stem_channels // 4]
        widths += [config.stem_channels // 2, config.stem_channels]
        scale = 1.0
        for index, (width, stride) in enumerate(zip(widths, (2, 1, 1, 2)), start=1):
            if index > 1:
                x = activation(x, config, f"stem_act{index}")
            x = ws_conv(x, width, 3, stride, f"stem_conv{index}", config, scale)
            scale = act_gamma(config)
        return x
    x = ws_conv(x, config.stem_channels, 7, 2, "stem_conv", config, 1.0)
    # timm pads its max pool with -inf; the first block reads this map only through its ReLU
    # pre-activation (its shortcut too, a projection), which commutes with the max: the ReLU
    # first makes zero padding exact.
    x = keras.layers.ReLU(name="stem_relu")(x)
    x = keras.layers.ZeroPadding2D(1, name="stem_pool_pad")(x)
    return keras.layers.MaxPooling2D(3, strides=2, name="stem_pool")(x)


def nf_block(x, block, config):
    """Pre-activation bottleneck: preact = act(x) / beta; conv1 1x1, conv2 3x3 (grouped,
    strided), [conv2b 3x3 grouped], conv3 1x1 with activations between, [SE x 2], stochastic
    depth, then x + alpha * skip_gain * branch, the shortcut being x or, in a transition
    block, a 2x2 average pool (strided blocks) and a 1x1 conv of the preact."""
    name, gamma = block.name, act_gamma(config)
    preact = activation(x, config, f"{name}_preact")
    scale = gamma * block.beta
    shortcut = x
    if block.transition:
        pooled = preact
        if block.stride > 1:
            # timm's AvgPool2d(2, ceil_mode=True, count_include_pad=False): TensorFlow's SAME
            # average pool (padding after, not counted) is the same on odd sizes too.
            pooled = keras.layers.AveragePooling2D(
                2, strides=block.stride, padding="same", name=f"{name}_down_pool"
            )(preact)
        shortcut = ws_conv(pooled, block.out_channels, 1, 1, f"{name}_down_conv", config, scale)
    h = ws_conv(preact, block.width, 1, 1, f"{name}_conv1", config, scale)
    h = activation(h, config, f"{name}_act2")
    h = ws_conv(h, block.width, 3, block.stride, f"{name}_conv2", config, gamma, block.groups)
    if config.extra_conv:
        h = activation(h, config, f"{name}_act2b")
        h = ws_conv(h, block.width, 3, 1, f"{name}_conv2b", config, gamma, block.groups)
    h = activation(h, config, f"{name}_act3")
    # Without a skip gain the last conv's gain starts at 0 instead (timm's skipinit=False).
    gain_init = 1.0 if config.skip_gain else 0.0
    h = ws_conv(h, block.out_channels, 1, 1, f"{name}_conv3", config, gamma, gain_init=gain_init)
    scale = config.alpha
    if config.se_ratio:
        h = SqueezeExcite(int(block.out_channels * config.se_ratio), name=f"{name}_se")(h)
        scale *= 2.0  # "2 * se(out) * out" (base.py NFBlock): the gate's mean 1/2 undone
    if block.drop_rate:
        # DeepMind's StochDepth does not rescale the kept branches.
        h = StochasticDepth(block.drop_rate, scale_by_keep=False, name=f"{name}_drop")(h)
    return ScaledResidual(scale, skip_gain=config.skip_gain, name=f"{name}_add")([shortcut, h])


def blocks(config):
    """The blocks in order, with their betas (expected standard deviations) and stochastic
    depth rates: block i of N (from 0) drops with drop_path_rate * i / N, as DeepMind's
    nfnet.py and nf_resnet.py (timm's calculate_drop_path_rates is the same rule)."""
    total = sum(config.depths)
    expected_var, index, out = 1.0, 0, []
    for stage, (depth, channels) in enumerate(zip(config.depths, config.channels), start=2):
        width = int(channels * config.bottleneck)
        groups = width // config.group_width if config.group_width else 1
        for number in range(1, depth + 1):
            out.append(
                Block(
                    name=f"conv{stage}_block{number}",
                    out_channels=channels,
                    width=width,
                    groups=groups,
                    stride=2 if number == 1 and stage > 2 else 1,
                    transition=number == 1,
                    beta=1.0 / math.sqrt(expected_var),
                    drop_rate=config.drop_path_rate * index / total,
                )
            )
            if number == 1:
                expected_var = 1.0
            expected_var += config.alpha**2
            index += 1
    return out


def body(x, config):
    """The stem, conv2 ... conv5 of normalizer-free blocks, [final_conv] and the final
    activation before the pooled head."""
    x = stem(x, config)
    endpoints = {"stem": x}
    for block in blocks(config):
        x = nf_block(x, block, config)
        endpoints[block.name.split("_")[0]] = x
    if config.final_channels:
        x = ws_conv(x, config.final_channels, 1, 1, "final_conv", config, 1.0)
    x = activation(x, config, "final_act")
    if config.gamma_in_act:
        x = keras.layers.Rescaling(GAMMA[config.activation], name="final_act_scale")(x)
    endpoints["final"] = x
    return endpoints


def configure(row, *, depths, drop_path_rate):
    depths = _core.check_depths(depths, row.depths)
    if (
        isinstance(drop_path_rate, bool)
        or not isinstance(drop_path_rate, (int, float))
        or not 0 <= drop_path_rate < 1
    ):
        raise ValueError(
            f"drop_path_rate={drop_path_rate!r} is invalid; accepted: a rate in [0, 1) "
            "(the last block's is drop_path_rate * (N - 1) / N)."
        )
    config = dataclasses.replace(row, depths=depths, drop_path_rate=float(drop_path_rate))
    return _core.Architecture(
        config,
        default_size=row.test_size,
        min_size=MIN_SIZE,
        head=_heads.pool_head(dropout=row.dropout),
    )


DEPTHS = _core.Option(
    "depths", None, "Blocks in conv2 ... conv5 (the row's when None), e.g. (1, 1, 1, 1)."
)


def drop_path_option(rate, source):
    return _core.Option(
        "drop_path_rate",
        rate,
        "Stochastic depth: block i of N (from 0) drops its residual branch with probability "
        f"drop_path_rate * i / N in training, without rescaling ({source}).",
    )


def summary(row):
    grouped = f"groups of {row.group_width} channels, " if row.group_width else ""
    return (
        f"{row.variant}: normalizer-free bottleneck blocks {row.depths} of "
        f"{row.channels} channels, {grouped}alpha {row.alpha}.\n\n"
        f"Trained at {row.train_size}x{row.train_size}, evaluated (and built by default) at "
        f"{row.test_size}x{row.test_size}; dropout {row.dropout} before the classifier."
    )


# Training: deepmind-research nfnets/experiment_nfnets.py (get_config, _make_opt) and
# dataset.py: SGD with Nesterov momentum 0.9, LR 0.1 per 256 images (1.6 at 4096), 5 epochs
# of linear warm-up then cosine to 0, 360 epochs, weight decay 2e-5 not on the gains and
# biases, adaptive gradient clipping 0.01 (not on the classifier's weight), label smoothing
# 0.1, an EMA of the weights at 0.99999, MixUp (alpha 0.2) and CutMix (Beta(1, 1)), each on
# half of every batch there, one of the two per batch with probability 0.5 here, RandAugment
# with 4 layers at magnitude 5 (F0), 10 (F1, F2) or 15 (F3 and up; base "405", "410", "415").
# The pipeline's RandAugment scale stops at 10 (keras_classics/data/randaugment.py; DeepMind's
# 15 extrapolates tensorflow/tpu's 0-10 levels): F3 and up take 10 here. Stochastic depth
# at 0.25 (nfnet.py's stochdepth_rate): the recipe's rate and the builders' default.
STOCHASTIC_DEPTH = 0.25
RECIPE = Recipe(
    "Brock et al. 2021; deepmind-research nfnets/experiment_nfnets.py",
    "sgd",
    1.6,
    4096,
    360,
    "cosine",
    2e-5,
    nesterov=True,
    decay_norm_and_bias=False,
    label_smoothing=0.1,
    warmup_epochs=5,
    randaugment=(4, 5),
    mixup=0.2,
    cutmix=1.0,
    ema_decay=0.99999,
    agc_clip=0.01,
    stochastic_depth=STOCHASTIC_DEPTH,
)
# A random crop of 8% - 100% of the image at an aspect of 3/4 - 4/3, flipped (dataset.py's
# _decode_and_random_crop; its resize is bicubic, the pipeline's bilinear), then RandAugment,
# MixUp and CutMix (the Recipe's fields).
AUGMENTATION = Augmentation(
    "nfnet", "Brock et al. 2021, deepmind-research nfnets/dataset.py", "area"
)
FAMILY = _core.Family(
    "nfnet",
    PAPER,
    configure,
    body,
    (DEPTHS, drop_path_option(STOCHASTIC_DEPTH, "DeepMind's nfnet.py, stochdepth_rate 0.25")),
    mode="torch",
    describe=summary,
    augmentation=AUGMENTATION,
    recipe=RECIPE,
)

NFNET_CHANNELS = (256, 512, 1536, 1536)


def nfnet(depth_multiple, train_size, test_size, dropout):
    """A row of Table 1 / base.py's nfnet_params: depths 1-2-6-3 times the multiple."""
    return Config(
        tuple(d * depth_multiple for d in (1, 2, 6, 3)),
        NFNET_CHANNELS,
        train_size,
        test_size,
        dropout,
        "deep",
        128,
        0.5,
        group_width=128,
        extra_conv=True,
        se_ratio=0.5,
        final_channels=2 * NFNET_CHANNELS[-1],
    )


def recipe_with_randaugment(magnitude):
    return dataclasses.replace(RECIPE, randaugment=(4, magnitude))


NFNetF0 = FAMILY.register(
    "nfnet_f0",
    "NFNetF0",
    nfnet(1, 192, 256, 0.2),
    # Replica equivalence in float64 at the smallest input, one block a stage: a transition
    # block of each stage, the stem and the final conv, every layer kind the family has.
    replica_check=ReplicaCheck(32, builder_options=(("depths", (1, 1, 1, 1)),)),
)
NFNetF1 = FAMILY.register(
    "nfnet_f1", "NFNetF1", nfnet(2, 224, 320, 0.3), recipe=recipe_with_randaugment(10)
)
NFNetF2 = FAMILY.register(
    "nfnet_f2", "NFNetF2", nfnet(3, 256, 352, 0.4), recipe=recipe_with_randaugment(10)
)
# F3 and up: magnitude 15 in DeepMind's code, the scale's largest (10) here (RECIPE).
NFNetF3 = FAMILY.register(
    "nfnet_f3", "NFNetF3", nfnet(4, 320, 416, 0.4), recipe=recipe_with_randaugment(10)
)
NFNetF4 = FAMILY.register(
    "nfnet_f4", "NFNetF4", nfnet(5, 384, 512, 0.5), recipe=recipe_with_randaugment(10)
)
NFNetF5 = FAMILY.register(
    "nfnet_f5", "NFNetF5", nfnet(6, 416, 544, 0.5), recipe=recipe_with_randaugment(10)
)
NFNetF6 = FAMILY.register(
    "nfnet_f6", "NFNetF6", nfnet(7, 448, 576, 0.5), recipe=recipe_with_randaugment(10)
)

# NF-ResNet-50 as timm's nf_resnet50 (whose weights exist): ResNet-50's widths and depths,
# a 7x7 conv and max pool stem, average-pool shortcuts (ResNet-D), no skip gain (its conv3's
# gain starts at 0 instead), symmetric padding, ReLU. DeepMind's nf_resnet.py has a scalar
# skip_gain per block (16 more parameters) and strided 1x1 shortcut convs instead; its
# stochdepth_rate default 0.1 is the option's. Trained in timm at 256 (ImageNet mean/std),
# evaluated at 288 (its pretrained config); no dropout (timm's default drop_rate 0).
# Its recipe: deepmind-research nfnets/experiment.py, the repository's base ImageNet
# experiment (NF_ResNet's model module trains with it): batch 1024, LR 0.1 per 256 (0.4),
# SGD with Nesterov momentum 0.9, 5 warm-up epochs then cosine to 0 over 90 epochs, weight
# decay 1e-4 not on gains and biases, label smoothing 0.1, no EMA, no AGC; the same crop.
# (timm trained its nf_resnet50 weights with its own RandAugment recipe, "ra2".) Stochastic
# depth at nf_resnet.py's stochdepth_rate.
RESNET_STOCHASTIC_DEPTH = 0.1
RESNET_RECIPE = Recipe(
    "Brock, De & Smith 2021; deepmind-research nfnets/experiment.py",
    "sgd",
    0.4,
    1024,
    90,
    "cosine",
    1e-4,
    nesterov=True,
    decay_norm_and_bias=False,
    label_smoothing=0.1,
    warmup_epochs=5,
    stochastic_depth=RESNET_STOCHASTIC_DEPTH,
)
NF_RESNET = dataclasses.replace(
    FAMILY,
    paper=RESNET_PAPER,
    options=(
        DEPTHS,
        drop_path_option(RESNET_STOCHASTIC_DEPTH, "DeepMind's nf_resnet.py, stochdepth_rate 0.1"),
    ),
    recipe=RESNET_RECIPE,
)
NFResNet50 = NF_RESNET.register(
    "nf_resnet50",
    "NFResNet50",
    Config(
        (3, 4, 6, 3),
        (256, 512, 1024, 2048),
        256,
        288,
        0.0,
        "7x7_pool",
        64,
        0.25,
        activation="relu",
        gamma_in_act=False,
        skip_gain=False,
        same_padding=False,
    ),
)

# --- pretrained weights: timm's ports of DeepMind's NFNets and its own NF-ResNet-50 ---------

# timm's modules of our layers: stem.conv{k} (stem.conv), stages.{s-2}.{b-1}.{conv1, conv2,
# conv2b, conv3, downsample.conv, attn_last (the SE), skipinit_gain}, final_conv, head.fc.
_BLOCK_PARTS = {"down_conv": "downsample.conv", "se": "attn_last", "add": "skipinit_gain"}
_BLOCK_LAYER = re.compile(r"conv(\d)_block(\d+)_(\w+)")


def timm_module(layer_name):
    """timm's module (or parameter) of our layer."""
    match = _BLOCK_LAYER.fullmatch(layer_name)
    if match:
        stage, block, part = match.groups()
        return f"stages.{int(stage) - 2}.{int(block) - 1}.{_BLOCK_PARTS.get(part, part)}"
    if layer_name.startswith("stem_conv"):
        return layer_name.replace("_", ".")
    return {"final_conv": "final_conv", "predictions": "head.fc"}[layer_name]


def timm_plan(model):
    plan = {}
    for layer in model.layers:
        if not layer.weights:
            continue
        module = timm_module(layer.name)
        if isinstance(layer, ScaledResidual):
            plan[layer.name] = (Take((module,)),)
        else:
            plan[layer.name] = torch_layout.takes(layer, module)
    return plan


# timm's pretrained configs (ImageNet mean/std, bicubic), at their input_size (the papers'
# training sizes; the builders default to the test sizes, where accuracy is higher); the NFNets'
# crop_mode "squash" (the crop resized to a square whatever its aspect) is not modelled: the
# evaluation pipeline takes the central crop of the shorter side (InputConfig).
TIMM = dict(head=("head.fc.",))
NFNET_CROPS = (0.9, 0.91, 0.92, 0.94, 0.951, 0.954, 0.956)
NFNET_TIMM_SIZES = (192, 224, 256, 320, 384, 416, 448)
conversion.register_conversions(
    *(
        torch_layout.row(
            "timm",
            f"dm_nfnet_f{k}",
            f"nfnet_f{k}",
            timm_plan,
            input=InputConfig("torch", size, crop_ratio=crop, interpolation="bicubic"),
            **TIMM,
        )
        for k, (size, crop) in enumerate(zip(NFNET_TIMM_SIZES, NFNET_CROPS))
    ),
    torch_layout.row(
        "timm",
        "nf_resnet50",
        "nf_resnet50",
        timm_plan,
        input=InputConfig("torch", 256, crop_ratio=0.94, interpolation="bicubic"),
        **TIMM,
    ),
)
# Accuracies: timm's results-imagenet.csv at each tag's input_size (at the test sizes it gives
# F0 83.468 at 256 ... F6 86.364 at 576, nf_resnet50 80.658 at 288; the paper's Table 1 reports
# F0 83.6 ... F6 86.5 top-1 at the test sizes, its own evaluation).
cards.register_cards(
    *(
        cards.timm_card(
            f"dm_nfnet_f{k}.dm_in1k", top1, top5, size, crop, "bicubic", "apache-2.0", params
        )
        for k, (top1, top5, size, crop, params) in enumerate(
            zip(
                (81.436, 83.444, 84.100, 85.092, 85.514, 85.712, 86.156),
                (95.672, 96.634, 96.910, 97.386, 97.488, 97.550, 97.762),
                NFNET_TIMM_SIZES,
                NFNET_CROPS,
                (
                    71_489_284,
                    132_634_256,
                    193_779_228,
                    254_924_200,
                    316_069_172,
                    377_214_144,
                    438_359_116,
                ),
            )
        )
    ),
    cards.timm_card(
        "nf_resnet50.ra2_in1k", 80.236, 95.104, 256, 0.94, "bicubic", "apache-2.0", 25_557_032
    ),
)
