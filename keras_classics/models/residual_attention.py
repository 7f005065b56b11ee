"""Residual Attention Networks: Wang, Jiang, Qian, Yang, Li, Zhang, Wang & Tang, "Residual
Attention Network for Image Classification", CVPR 2017, Table 2 (Attention-56, Attention-92)
and section 4.2 (AttentionNeXt, ResNeXt units), as the authors' Caffe deploy definitions build
them (fwang91/residual-attention-network, imagenet_model/Attention-56-deploy.prototxt,
Attention-92-deploy.prototxt, AttentionNeXt-56-deploy.prototxt).

An attention module (section 3, Fig. 2; p=1, t=2, r=1) is a residual unit (trunk res1), then a
trunk of two units (res2, res3) and, from res1, a soft mask branch: 3x3/2 max pools down to
the 7x7 grid of a 224 input (3, 2 or 1 pools in stages 1, 2 and 3), one unit after each pool and
two at the bottom, the way up by bilinear up-sampling (the `Interp` layer) to the size of the
level above, where a skip connection (one unit on the down-path output) is added and one unit
follows, a last up-sampling to the trunk's size, 2x (BN-ReLU-1x1 conv), a sigmoid. The output
is (1 + M) * T (attention residual learning, section 3.1), then one more unit.

Attention-56 and Attention-92 use pre-activation bottleneck units: the release normalises a
tensor once (BN-ReLU named after it, `{tensor}_bn`) for the units that read it, whose
identity shortcuts take it raw. AttentionNeXt-56 uses ResNeXt units (conv-BN-ReLU, grouped
3x3 of cardinality 32 and twice the width, conv-BN, sum, ReLU). Layer names are the release's,
"/" written "_" and "AttentionA_1" "attention_a_1": conv1, pool1_3x3_s2, pre_res_{1,2,3} (each
stage's first unit), attention_{a,b,c}_{module}_trunk_res{1,2,3}, ..._mask_down_sample_*,
..._mask_skip_*, ..._mask_up_sample_*, ..._mask_linear_{1,2}, ..._residual (the product),
..._fusion (the sum), the module's last unit attention_{a,b,c}_{module}, post_res_4_{1,2,3}.
AttentionNeXt-56's release names its mask parts down/up (not down_sample/up_sample) and its
product attention_residual; one naming serves both here.
"""

import dataclasses

import keras

from keras_classics.layers import Interp
from keras_classics.models import _core, _heads

# The release's deploy files give no initialisation: He normal over the fan-out, as this
# package's ResNet family; strided 3x3 convs and the 7x7 stem pad symmetrically as Caffe.
from keras_classics.models._units import padded_conv
from keras_classics.records.augmentation import Augmentation
from keras_classics.records.recipe import Recipe
from keras_classics.records.registry import ReplicaCheck

PAPER = "Wang et al. 2017, Residual Attention Network, Table 2"

# Stages 1 ... 4 (the release's A, B, C and post_res_4): output channels.
STAGE_FILTERS = (256, 512, 1024, 2048)
# The mask branch's max pools per attention module in stages 1, 2 and 3: down to 7x7 at 224.
MASK_POOLS = (3, 2, 1)
# Stage 1's mask pools a 56x56 map (at 224) three times; each pool needs 2 rows (Caffe's
# ceil-mode 3x3/2 pooling of a 1-row map has no output): conv1 and pool1 bring an input of
# side s to floor(ceil(s / 2) / 2), which must be >= 8, so s >= 31. Stage 2 needs less.
MIN_SIZE = 31


@dataclasses.dataclass(frozen=True)
class Config:
    """One network: a row of the release's definitions, and the options of one build."""

    depths: tuple  # attention modules in stages 1, 2, 3; residual units in stage 4
    widths: tuple  # the units' bottleneck (1x1 and 3x3) widths, per stage
    groups: int  # the 3x3 convs' cardinality (32: ResNeXt units)
    preactivation: bool  # BN-ReLU before each conv (pre-activation) or after (ResNeXt's)


def bn(x, name):
    """The release's BN layer (scale and shift in one, moving-average statistics) of tensor
    `name`. Its deploy files give no epsilon or momentum: torch's and Caffe's 1e-5 and 0.1
    (0.9 in Keras' convention)."""
    return keras.layers.BatchNormalization(epsilon=1e-5, momentum=0.9, name=f"{name}_bn")(x)


def bn_relu(x, name):
    """BN and the release's in-place ReLU of tensor `name`."""
    return keras.layers.ReLU(name=f"{name}_bn_relu")(bn(x, name))


def conv(x, filters, kernel, stride, name, groups=1):
    return padded_conv(x, filters, kernel, stride, name, groups, conv_name=name)


def residual_unit(x, source, name, stage, config, stride=1):
    """One bottleneck unit `name` on tensor `x` (named `source`): branch1 1x1 -> 3x3 (strided,
    grouped for ResNeXt) -> 1x1, added to the input or, where the shape changes, to branch2's
    1x1 projection (strided).

    Pre-activation (He et al. 2016, "Identity Mappings"): branch1 and the projection read
    BN-ReLU(x), `{source}_bn`; the sum is left raw for the next reader. ResNeXt (Xie et al.
    2017): conv-BN-ReLU, the last conv and the projection with BN only, ReLU after the sum.
    """
    filters, width = STAGE_FILTERS[stage], config.widths[stage]
    project = stride > 1 or x.shape[-1] != filters
    branch = f"{name}_branch1"
    if config.preactivation:
        active = bn_relu(x, source)
        shortcut = x
        if project:
            shortcut = conv(active, filters, 1, stride, f"{name}_branch2_conv1_1x1")
        h = conv(active, width, 1, 1, f"{branch}_conv1_1x1")
        h = bn_relu(h, f"{branch}_conv1_1x1")
        h = conv(h, width, 3, stride, f"{branch}_conv2_3x3", groups=config.groups)
        h = conv(bn_relu(h, f"{branch}_conv2_3x3"), filters, 1, 1, f"{branch}_conv3_1x1")
        return keras.layers.Add(name=name)([shortcut, h])
    h = conv(x, width, 1, 1, f"{branch}_conv1_1x1")
    h = bn_relu(h, f"{branch}_conv1_1x1")
    h = conv(h, width, 3, stride, f"{branch}_conv2_3x3", groups=config.groups)
    h = bn_relu(h, f"{branch}_conv2_3x3")
    h = bn(conv(h, filters, 1, 1, f"{branch}_conv3_1x1"), f"{branch}_conv3_1x1")
    shortcut = x
    if project:
        projection = f"{name}_branch2_conv1_1x1"
        shortcut = bn(conv(x, filters, 1, stride, projection), projection)
    x = keras.layers.Add(name=name)([shortcut, h])
    return keras.layers.ReLU(name=f"{name}_relu")(x)


def max_pool(x, name):
    """Caffe's 3x3/2 max pool without padding, whose output side rounds up (ceil((n - 3) / 2)
    + 1): its last window may stop at the edge. Keras' 'same' shifts the windows of odd
    sides by one and 'valid' drops that last window; the mask pools read raw (signed) sums,
    so a zero pad would not do either. A 2x2 max pool of stride 1 ('same': the last row and
    column alone) then a 2x2/2 'valid' max pool give every 3x3/2 window, clipped at the edge,
    at every side (the maximum is separable: max over rows 2i..2i+2 = max of the pairs 2i and
    2i+1)."""
    x = keras.layers.MaxPooling2D(2, strides=1, padding="same", name=f"{name}_pairs")(x)
    return keras.layers.MaxPooling2D(2, strides=2, name=name)(x)


def mask_branch(x, name, stage, reference, config):
    """Section 3.3, Fig. 3: the soft mask of module `name`, from trunk res1 (`x`, raw: the
    first pool reads it), up-sampled to the trunk output `reference`'s size, in (0, 1)."""
    unit = dict(stage=stage, config=config)
    pools = MASK_POOLS[stage]
    skips = []
    for level in range(1, pools + 1):
        pool = f"{name}_mask_down_sample_pool{level}_3x3_s2"
        res = f"{name}_mask_down_sample_res{level}_1"
        x = residual_unit(max_pool(x, pool), pool, res, **unit)
        skips.append((x, res))
        if level == pools:  # 2r units at the lowest resolution
            x = residual_unit(x, res, f"{name}_mask_down_sample_res{level}_2", **unit)
    for level in range(pools - 1, 0, -1):
        skip, skip_source = skips[level - 1]
        up = Interp(name=f"{name}_mask_up_sample_interp_{level + 1}")([x, skip])
        skip = residual_unit(skip, skip_source, f"{name}_mask_skip_res{level}", **unit)
        merged = f"{name}_mask_up_sample{level}"
        x = keras.layers.Add(name=merged)([skip, up])
        x = residual_unit(x, merged, f"{name}_mask_up_sample_res{level}_1", **unit)
    interp = f"{name}_mask_up_sample_interp_1"
    x = Interp(name=interp)([x, reference])
    if config.preactivation:  # the ResNeXt units' outputs are already activated
        x = bn_relu(x, interp)
    filters = STAGE_FILTERS[stage]
    x = bn_relu(conv(x, filters, 1, 1, f"{name}_mask_linear_1"), f"{name}_mask_linear_1")
    x = conv(x, filters, 1, 1, f"{name}_mask_linear_2")
    return keras.layers.Activation("sigmoid", name=f"{name}_mask")(x)


def attention_module(x, source, name, stage, config):
    """Section 3 (p=1, t=2, r=1): trunk res1, the trunk (res2, res3) and the mask from res1,
    H = (1 + M) * T as T * M + T (the release's product `_residual` and sum `_fusion`), then
    the module's last unit, `name`."""
    unit = dict(stage=stage, config=config)
    first = residual_unit(x, source, f"{name}_trunk_res1", **unit)
    trunk = residual_unit(first, f"{name}_trunk_res1", f"{name}_trunk_res2", **unit)
    trunk = residual_unit(trunk, f"{name}_trunk_res2", f"{name}_trunk_res3", **unit)
    mask = mask_branch(first, name, stage, trunk, config)
    product = keras.layers.Multiply(name=f"{name}_residual")([trunk, mask])
    fusion = keras.layers.Add(name=f"{name}_fusion")([product, trunk])
    return residual_unit(fusion, f"{name}_fusion", name, **unit)


def body(x, config):
    """Table 2: conv1 (7x7/2, 64) with BN and ReLU, a 3x3/2 max pool; in stages 1-3 a unit
    (pre_res, strided in stages 2 and 3) and the stage's attention modules; stage 4's units
    (post_res_4, the first strided); pre-activation nets end with BN-ReLU."""
    x = bn_relu(conv(x, 64, 7, 2, "conv1"), "conv1")
    endpoints = {"conv1": x}
    # Caffe's ceil-mode pool1 (see max_pool) of a ReLU's output (>= 0): a zero row and column
    # at the end stand for the clipped windows, as ResNet's pool1="ceil".
    x = keras.layers.ZeroPadding2D(((0, 1), (0, 1)), name="pool1_3x3_s2_pad")(x)
    x = keras.layers.MaxPooling2D(3, strides=2, name="pool1_3x3_s2")(x)
    source = "pool1_3x3_s2"
    for stage, (letter, modules) in enumerate(zip("abc", config.depths[:3])):
        name = f"pre_res_{stage + 1}"
        x = residual_unit(x, source, name, stage, config, stride=1 if stage == 0 else 2)
        source = name
        for index in range(1, modules + 1):
            name = f"attention_{letter}_{index}"
            x, source = attention_module(x, source, name, stage, config), name
        endpoints[f"stage{stage + 1}"] = x
    for index in range(1, config.depths[3] + 1):
        name = f"post_res_4_{index}"
        x = residual_unit(x, source, name, 3, config, stride=2 if index == 1 else 1)
        source = name
    endpoints["stage4"] = bn_relu(x, source) if config.preactivation else x
    return endpoints


def configure(row, *, depths):
    """The row with the caller's `depths` checked and applied."""
    depths = _core.check_depths(depths, row.depths)
    config = dataclasses.replace(row, depths=depths)
    return _core.Architecture(
        config, default_size=224, min_size=MIN_SIZE, head=_heads.pool_head("ave_pool")
    )


OPTIONS = (
    _core.Option(
        "depths",
        None,
        "Attention modules in stages 1, 2 and 3 and residual units in stage 4 (the row's when "
        "None, (1, 1, 1, 3) for Attention-56), e.g. (1, 1, 1, 1).",
    ),
)


def summary(row):
    unit = "ResNeXt units (32 groups)" if row.groups > 1 else "pre-activation bottleneck units"
    return (
        f"Attention modules {row.depths[:3]} in stages 1-3, {row.depths[3]} units in stage 4, "
        f"{unit}, p=1, t=2, r=1.\n\n"
        "224x224 input, the mask branch max-pooled 3/2/1 times per stage and up-sampled with "
        "aligned corners (Interp), global average pooling head."
    )


# Training, section 4.2 (ImageNet): Nesterov SGD, momentum 0.9, weight decay 1e-4, batch 256,
# LR 0.1 divided by 10 at 200k, 400k and 500k iterations, stopped at 530k. In epochs of 1.28M
# images (256 images an iteration): 40, 80 and 100, stopped at 106.
RECIPE = Recipe(
    "Wang et al. 2017, section 4.2",
    "sgd",
    0.1,
    256,
    106,
    "steps",
    1e-4,
    nesterov=True,
    milestones=(40, 80, 100),
)
# Section 4.2 and the release's README: scale and aspect-ratio augmentation (Inception's
# random-area crop, Szegedy et al. 2015) and a mirror; the colour augmentation the paper adopts
# is taken to be AlexNet's PCA lighting (its "standard color augmentation" cites Krizhevsky
# et al. 2012), not checked against the paper's text here.
AUGMENTATION = Augmentation(
    "residual_attention",
    "Wang et al. 2017, section 4.2",
    "area",
    after_resize=("pca_lighting",),
)
FAMILY = _core.Family(
    "residual_attention",
    PAPER,
    configure,
    body,
    OPTIONS,
    describe=summary,
    augmentation=AUGMENTATION,
    recipe=RECIPE,
)
NEXT = dataclasses.replace(
    FAMILY, paper="Wang et al. 2017, Residual Attention Network, section 4.2 (AttentionNeXt)"
)

PREACT_WIDTHS = (64, 128, 256, 512)
NEXT_WIDTHS = (128, 256, 512, 1024)

ResidualAttention56 = FAMILY.register(
    "residual_attention56",
    "ResidualAttention56",
    Config((1, 1, 1, 3), PREACT_WIDTHS, 1, True),
    # Replica equivalence in float64 at 32, the training program's default side for it (the
    # body accepts 31: the stage-1 mask's three pools leave 1x1 at both), with one unit in
    # stage 4: every unit and mask kind (3, 2 and 1 pools) at a cost the CI bears. Over three
    # steps: the worst relative difference of two replicas from one device grows about tenfold
    # a step (6.7e-8, 3.1e-7, 4.5e-6 after one, two, three steps; 0.89 after five; measured on
    # a shared 2-core CPU), as MobileNetV2's; the masks' max pools over raw sums are where a
    # rounding-scale difference can change which input a window's gradient reaches.
    replica_check=ReplicaCheck(32, builder_options=(("depths", (1, 1, 1, 1)),), steps=3),
)
ResidualAttention92 = FAMILY.register(
    "residual_attention92",
    "ResidualAttention92",
    Config((1, 2, 3, 3), PREACT_WIDTHS, 1, True),
)
# AttentionNeXt-92's deploy file is left out: it reads a blob no layer makes (ave_pool_gather).
AttentionNeXt56 = NEXT.register(
    "attention_next56",
    "AttentionNeXt56",
    Config((1, 1, 1, 3), NEXT_WIDTHS, 32, False),
)
