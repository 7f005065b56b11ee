"""The export cover: which registered models tests/export/test_coverage.py exports, and what a
model's graph is made of, read from its layers (tests/test_models.py checks that every
registered model is made only of kinds these representatives export, so a new family made of
something else fails until it gets a representative here).

Three kinds, each read from a built model and nothing else:
- layer kinds: the class of every layer, with the package it comes from (keras_classics'
  Conv2D is not keras' Conv2D);
- block kinds: the layers of one block (named by the naming rule: `conv3_block2_*`,
  `inception_4a_*`, `mixed_6b_*`, `block35_3_*`, `conv4_2*`) as the set of what each traces to
  in a graph: its class and the attributes that choose the TensorFlow op (kernel size,
  strides, padding, groups, pool size). Widths and repeats do not make a new kind;
- the head kind: the classes, in order, of the layers after the last feature map (outputs of
  rank 2: Flatten or global pooling, Dropout, Dense).
"""

import re

import keras

import keras_classics
from keras_classics.analysis import stage_of

# The least set of registered models whose exports hold every layer, block and head kind of
# the registry, found by exact set cover over kinds() of every model's default build against
# kinds() of each model's export build (alexnet, vgg11_lrn, vgg16_c, googlenet, bn_inception,
# inception_v4 and inception_resnet_v2 each alone hold some kind; the other five cover the
# rest, the smallest of each choice; resnet20_cifar alone has option A's zero-padded
# shortcuts). The quick loop (`-m "not slow"`) exports four: AlexNet (its paper head, LRN,
# grouped convolutions), a VGG, GoogLeNet and ResNet-18.
EXPORTED = (
    "alexnet",
    "vgg11_lrn",
    "vgg16_c",
    "googlenet",
    "bn_inception",
    "inception_v2",
    "inception_v4",
    "inception_resnet_v2",
    "resnet18",
    "resnet50",
    "plainnet18",
    "resnet20_cifar",
    # Squeeze-excitation blocks: SE-ResNet's (strided 1x1), SE-ResNeXt's (grouped, strided 3x3)
    # and SENet-154's (3-conv stem, 3x3 strided projections, dropout head) each hold their own.
    "seresnet50",
    "seresnext50_32x4d",
    "senet154",
    "densenet121",
    "igc_l4m32",  # the channel shuffle (IGC's permutation); its blocks are IGC V1's
    # Each MobileNet holds a block or head kind of its own: v1's separable layers, v2's
    # inverted residuals, v3-Large's and v3-Small's SE and hard-swish blocks (their depthwise
    # kernels and strides differ) and v3's hard-swish head.
    "mobilenet_v1",
    "mobilenet_v2",
    "mobilenet_v3_large",
    "mobilenet_v3_small",
    "dpn68",
    # The normalizer-free nets: NFNet's grouped, SE and SAME-padded blocks and NF-ResNet's
    # symmetric padding and max-pool stem (ScaledStdConv2D, folded in the export).
    "nfnet_f0",
    "nf_resnet50",
    # MnasNet's symmetric padding of its strided depthwise convs (torchvision's and timm's)
    # and B1's 5x5 blocks without SE; A1's SE blocks of 3x3 and 5x5 kernels with ReLU.
    "mnasnet1_0",
    "mnasnet_a1",
    # ShuffleNet v1's units (grouped pointwise convs, the shuffle, the average-pooled
    # shortcut; g = 1's strided unit has neither groups nor shuffle) and v2's (the channel
    # split, its two strided branches).
    "shufflenet_v1_g1",
    "shufflenet_v1_g3",
    "shufflenet_v2_x0_5",
    # EfficientNet's MBConv blocks with SE and SiLU (and stochastic depth in training), and
    # Lite's ReLU6 blocks without SE.
    "efficientnet_b0",
    "efficientnet_lite0",
    # The mask branch's Interp (align-corners RESIZE_BILINEAR), its ceil-mode pools and the
    # attention product; pre-activation units in one, ResNeXt's in the other, whose stride-1
    # and strided projection units (pre_res_1, pre_res_2) are ResNeXt-50's block kinds: it
    # replaces resnext50_32x4d in the cover.
    "residual_attention56",
    "attention_next56",
)
QUICK = {"alexnet", "vgg11_lrn", "googlenet", "resnet18"}
# The representatives with a `depths` option export at the least depth that keeps every
# block kind (a stage's repeats are one kind; the kind check in tests/test_models.py reads
# these builds, so a depth that dropped a kind fails there): ResNet's conv2_block2 is its
# only non-projection block kind, so one block in each later stage; the release's last 8x8
# Inception-ResNet-v2 block is linear, so two there. TensorFlow's export cost grows with the
# depth (inception_resnet_v2: 44 s of SavedModel and TFLite conversion at (10, 20, 10), 9 s at
# (1, 1, 2), AVX2 EPYC), what they export does not.
EXPORT_DEPTHS = {
    "resnet18": (2, 1, 1, 1),
    "resnet50": (2, 1, 1, 1),
    "plainnet18": (2, 1, 1, 1),
    "inception_v4": (1, 1, 1),
    "inception_resnet_v2": (1, 1, 2),
    # conv2_block1 is already the identity block, conv3/conv4_block1 the zero-padded ones.
    "resnet20_cifar": (1, 1, 1),
    "seresnet50": (2, 1, 1, 1),
    "seresnext50_32x4d": (2, 1, 1, 1),
    "senet154": (2, 1, 1, 1),
    # Every dense layer is one kind, every transition another: one layer per dense block.
    "densenet121": (1, 1, 1, 1),
    # Each stage's first block holds all of its kinds (g1's is the identity block).
    "igc_l4m32": (1, 1, 1, 1),
    # conv2_1 is the stride-1 projection block, conv2_2 the only plain dual path block,
    # conv3_1 ... conv5_1 the strided projection blocks.
    "dpn68": (2, 1, 1, 1),
    # A transition block in each stage; the plain blocks of conv2 (its 3x3 convs one group of
    # 128 channels) and of conv3 (grouped), both with stochastic depth.
    "nfnet_f0": (2, 2, 1, 1),
    "nf_resnet50": (1, 2, 1, 1),
    # One block a stage holds the strided and the plain blocks; a second block in B1's stage 3
    # is its 5x5 residual block, in A1's stage 5 its 3x3 residual block with SE (the other
    # residual kinds are MobileNet's).
    "mnasnet1_0": (1, 2, 1, 1, 1, 1),
    "mnasnet_a1": (1, 1, 1, 2, 1, 1),
    # Stage2's first unit (its first pointwise conv ungrouped) and second (the stride-1
    # unit: v1's addition, v2's split), the strided units of Stage3 and Stage4.
    "shufflenet_v1_g3": (2, 1, 1),
    "shufflenet_v1_g1": (1, 1, 1),
    "shufflenet_v2_x0_5": (2, 1, 1),
    # Two blocks in stages 1 (B1 ... B7's residual MBConv1; Lite keeps one), 2 and 3 (the
    # residual 3x3 and 5x5 MBConv6 with stochastic depth), one in the others (the strided and
    # stride-1 first blocks of each kernel size).
    "efficientnet_b0": (2, 2, 2, 1, 1, 1, 1),
    "efficientnet_lite0": (1, 2, 2, 1, 1, 1, 1),
    # One attention module in each of stages 1-3 (their masks pool 3, 2 and 1 times: each
    # its own block) and two units in stage 4 (post_res_4: the strided projection and an
    # identity unit, one block kind).
    "residual_attention56": (1, 1, 1, 2),
    "attention_next56": (1, 1, 1, 2),
}
# The bound on probabilities and log-probabilities of a float32 runtime (TFLite, ONNX Runtime)
# against Keras where float32 rounding alone exceeds the default 1e-4. Attention-56's
# random-weight export (no trained BN scaling: its pre-activation residual stream and
# (1 + M) * T products grow to logits of 30-90 at 32 px) puts Keras' own float32
# log-probabilities up to 1.7e-4 from the same model in float64, TFLite's up to 1.5e-4, and the
# two up to 2.1e-4 apart (measured on six builds): TFLite is as close to the exact values as
# Keras is, about 2e-6 of the largest logit. ONNX Runtime's are as far (1.1e-4 in a CI run).
FLOAT32_TOLERANCE = {"residual_attention56": 4e-4}
# Exported with its paper head (Flatten + fc6/fc7 at 227x227, 1000 classes, softmax): the one
# fixed head of the registry that is exported (VGG's is the same kind). Its hidden layers are
# narrowed from 4,096 units to HEAD_UNITS: the head's kind (its layers, in order) is what an
# export can get wrong, not its width, and the 4,096-wide layers' 244 MB of weights were most
# of the ONNX conversion's time (tf2onnx copies the graph's constants at each optimiser pass)
# and of the SavedModel and TFLite export's (CONTRIBUTING.md, CI time).
FULL_HEAD = {"alexnet"}
HEAD_UNITS = 64


def build_for_export(name):
    """(model, image size) of `name` as the export tests export it: at its smallest input
    (max(32, min_size)) and EXPORT_DEPTHS, with a 10-class logits head; the fixed-head models
    other than FULL_HEAD export their convolutional body under a "predictions" Dense layer,
    FULL_HEAD its paper head with HEAD_UNITS-wide hidden layers."""
    spec = keras_classics.get_spec(name)
    if name in FULL_HEAD:
        return _narrowed(spec.build(), HEAD_UNITS), spec.input.size
    size = max(32, spec.min_size)
    shape = (size, size, 3)
    depths = {"depths": EXPORT_DEPTHS[name]} if name in EXPORT_DEPTHS else {}
    if spec.fixed_head:
        body = spec.build(include_top=False, pooling="avg", input_shape=shape)
        outputs = keras.layers.Dense(10, name="predictions")(body.output)
        return keras.Model(body.inputs[0], outputs, name=body.name), size
    return spec.build(classes=10, classifier_activation=None, input_shape=shape, **depths), size


def _narrowed(model, units):
    """`model` with every Dense layer but the output layer at `units` units (the rest, its
    names and configuration, as built)."""
    output = model.layers[-1]

    def clone(layer):
        config = layer.get_config()
        if isinstance(layer, keras.layers.Dense) and layer is not output:
            config["units"] = units
        return type(layer).from_config(config)

    return keras.models.clone_model(model, clone_function=clone)


# A block index right after the stage: conv3_block2_..., block35_3_..., conv4_2 (VGG's conv4_2).
_BLOCK_INDEX = re.compile(r"_(?:block)?\d+(?=_|$)")
_OP_ATTRIBUTES = ("kernel_size", "strides", "padding", "pool_size", "dilation_rate")


def block_of(layer_name):
    """The block a layer belongs to: 'conv3_block2_1_conv' -> 'conv3_block2',
    'inception_4a_3x3_reduce' -> 'inception_4a', 'block35_3_branch_1' -> 'block35_3'."""
    stage = stage_of(layer_name)
    index = _BLOCK_INDEX.match(layer_name[len(stage) :])
    return stage + (index.group(0) if index else "")


def layer_kind(layer):
    return f"{type(layer).__module__.split('.')[0]}.{type(layer).__name__}"


def op_kind(layer):
    """The layer's class and the attributes that choose the op it traces to."""
    attributes = tuple((a, _plain(getattr(layer, a))) for a in _OP_ATTRIBUTES if hasattr(layer, a))
    groups = getattr(layer, "groups", 1)
    return (layer_kind(layer), *attributes, *((("grouped", True),) if groups > 1 else ()))


def _plain(value):
    return tuple(value) if isinstance(value, (list, tuple)) else value


def _rank(layer):
    output = layer.output
    return len((output[0] if isinstance(output, (list, tuple)) else output).shape)


def kinds(model):
    """{"layer": set of layer kinds, "block": set of block kinds, "head": {head kind}}."""
    layers = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    blocks = {}
    for layer in layers:
        if _rank(layer) == 4:
            blocks.setdefault(block_of(layer.name), set()).add(op_kind(layer))
    head = tuple(type(layer).__name__ for layer in layers if _rank(layer) == 2)
    return {
        "layer": {layer_kind(layer) for layer in layers},
        "block": {frozenset(ops) for ops in blocks.values()},
        "head": {head},
    }


def uncovered(model_kinds, covered):
    """What of `model_kinds` is not in `covered` (both as kinds() returns them)."""
    return {
        k: model_kinds[k] - covered.get(k, set())
        for k in model_kinds
        if model_kinds[k] - covered.get(k, set())
    }


def union(all_kinds):
    out = {"layer": set(), "block": set(), "head": set()}
    for k in all_kinds:
        for key in out:
            out[key] |= k[key]
    return out
