"""What the Inception family shares: the conv unit, and modules written as data.

An Inception module is a tuple of branches, each a tuple of operations (`Conv`, `Pool`,
`Split`), whose outputs are concatenated; the family modules write each paper figure as one
such table (a function of its widths), and `module` builds it.

Naming rule: the module's concatenation is named by the module (`mixed_5b`, `inception_4a`),
every operation `{module}_b{branch}_{position}` with the branch index from 0 and the position
from 1, as TF-slim's Branch_i scopes; a conv unit adds `_conv`, `_bn`, `_relu`. Families that
mirror a released checkpoint's names (GoogLeNet's Caffe names) pass their own names.
"""

import collections
import dataclasses
import re
from typing import Optional, Union

import keras

from keras_classics.models import _core
from keras_classics.records.augmentation import Augmentation
from keras_classics.records.recipe import Recipe
from keras_classics.weights import keras_layout


@dataclasses.dataclass(frozen=True)
class ConvStyle:
    """How a module's units are made: conv [+ BN] + ReLU, and its 'same' average pools.

    batch_norm=False: conv with bias + ReLU (GoogLeNet paper). Otherwise conv without bias
    (BN's beta replaces it) + BN + ReLU; `scale` adds BN's gamma (torchvision/timm keep it,
    TF-slim and keras.applications drop it because a ReLU follows).
    avg_pool_counts_padding: a 'same' average pool divides by the full window, zeros of the
    padding included (torchvision's and timm's Inception-v3, `avg_pool2d(3, 1, padding=1)`),
    instead of by the pixels inside the image (TF-slim 'SAME', the default).
    """

    batch_norm: bool = True
    scale: bool = True
    # torchvision's BasicConv2d (Inception-v3, GoogLeNet) and timm use eps 1e-3 as TF-slim;
    # momentum as torchvision's default 0.1 (Keras 0.9), the project convention.
    epsilon: float = 1e-3
    momentum: float = 0.9
    avg_pool_counts_padding: bool = False


# The builder option with_options reads (Inception-v2/v3, Inception-ResNet).
# The Inception line's training augmentation: Szegedy et al. 2015 (GoogLeNet), section 6,
# patches of 8% to 100% of the image at aspect ratios 3/4 to 4/3, kept by its successors.
AUGMENTATION = Augmentation("inception", "Szegedy et al. 2015, section 6", "area")

# The Inception line's training recipe: Szegedy et al. 2016 (Rethinking), section 8: RMSProp
# decay 0.9, epsilon 1.0, LR 0.045 decayed by 0.94 every 2 epochs, gradient clipping 2.0, batch
# 32 per replica, 100 epochs. Weight decay 4e-5 is TF-slim's (the paper gives none). Szegedy et
# al. 2017 train Inception-v4 and Inception-ResNet the same way; BN-Inception takes TF-slim's
# defaults, the same. GoogLeNet has its own (googlenet.py), Inception-v3 adds label smoothing.
RECIPE = Recipe(
    "Szegedy et al. 2016, section 8; TF-slim",
    "rmsprop",
    0.045,
    32,
    100,
    "exponential",
    4e-5,
    decay_rate=0.94,
    decay_epochs=2,
    clip_norm=2.0,
)


def family(paper, configure, body, options=(), recipe=RECIPE):
    """A Family of the Inception line: the registry's "inception" family, [-1, 1] inputs (mode
    "tf": the TF-slim, torchvision and timm weights of these nets take them), section 6's
    augmentation and, unless `recipe`, Rethinking's recipe."""
    return _core.Family(
        "inception",
        paper,
        configure,
        body,
        options,
        mode="tf",
        augmentation=AUGMENTATION,
        recipe=recipe,
    )


BN_SCALE = _core.Option(
    "bn_scale",
    True,
    "False drops BN's scale as keras.applications and TF-slim (for their converted weights).",
)


def with_options(style, *, bn_scale, avg_pool_counts_padding=False):
    """`style` with a builder's options: `bn_scale` (BN's gamma; False as keras.applications
    and TF-slim) and `avg_pool_counts_padding` (see ConvStyle)."""
    for name, value in (
        ("bn_scale", bn_scale),
        ("avg_pool_counts_padding", avg_pool_counts_padding),
    ):
        if not isinstance(value, bool):
            raise ValueError(f"{name}={value!r} is invalid; accepted: True or False.")
    return dataclasses.replace(
        style, scale=bn_scale, avg_pool_counts_padding=avg_pool_counts_padding
    )


@dataclasses.dataclass(frozen=True)
class Conv:
    """A conv unit: `kernel` int or (rows, cols), 'same' unless the paper marks it 'V'."""

    filters: int
    kernel: Union[int, tuple]
    stride: int = 1
    padding: str = "same"


@dataclasses.dataclass(frozen=True)
class Pool:
    """Max or average pooling ("max" / "avg"), 3x3/1 'same' unless stated."""

    kind: str
    size: int = 3
    stride: int = 1
    padding: str = "same"


@dataclasses.dataclass(frozen=True)
class Split:
    """The expanded filter bank (Rethinking Fig. 7): convs applied side by side to the
    branch's output, concatenated."""

    convs: tuple


def conv_unit(x, conv, name, style):
    """conv [+ BN] + ReLU, layers `name`, `name_bn`, `name_relu` (BN) or `name`,
    `name_relu` (no BN)."""
    x = keras.layers.Conv2D(
        conv.filters,
        conv.kernel,
        strides=conv.stride,
        padding=conv.padding,
        use_bias=not style.batch_norm,
        name=name,
    )(x)
    if style.batch_norm:
        x = keras.layers.BatchNormalization(
            epsilon=style.epsilon, momentum=style.momentum, scale=style.scale, name=f"{name}_bn"
        )(x)
    return keras.layers.ReLU(name=f"{name}_relu")(x)


def pool(x, op, name, style=None):
    layer = keras.layers.MaxPooling2D if op.kind == "max" else keras.layers.AveragePooling2D
    # TF 'same' average pooling leaves the padding out of the mean, as TF-slim (the authors'
    # release); torchvision's avg_pool2d(padding=1) counts it in at the borders: explicit zeros
    # and an unpadded pool (the tables' average pools are all 3x3/1, padded evenly).
    if op.kind == "avg" and op.padding == "same" and style and style.avg_pool_counts_padding:
        x = keras.layers.ZeroPadding2D(op.size // 2, name=f"{name}_pad")(x)
        return layer(op.size, strides=op.stride, padding="valid", name=name)(x)
    return layer(op.size, strides=op.stride, padding=op.padding, name=name)(x)


def apply(x, op, name, style):
    """One operation of a branch."""
    if isinstance(op, Conv):
        return conv_unit(x, op, f"{name}_conv", style)
    if isinstance(op, Pool):
        return pool(x, op, f"{name}_pool", style)
    outs = [
        conv_unit(x, c, f"{name}{chr(ord('a') + i)}_conv", style) for i, c in enumerate(op.convs)
    ]
    return keras.layers.Concatenate(name=f"{name}_concat")(outs)


def branch(x, ops, name, style):
    for position, op in enumerate(ops, start=1):
        x = apply(x, op, f"{name}_{position}", style)
    return x


def module(x, branches, name, style, concat_name: Optional[str] = None):
    """Concatenation of `branches` (tuples of ops), in the order the paper lists them."""
    outs = [branch(x, ops, f"{name}_b{i}", style) for i, ops in enumerate(branches)]
    return keras.layers.Concatenate(name=concat_name or name)(outs)


def modules(endpoints, table, style):
    """The modules of `table` ((name, branches), ...) on the last endpoint, each output added
    to `endpoints` under its name; returns `endpoints` (a family body's result)."""
    x = list(endpoints.values())[-1]
    for name, branches in table:
        x = endpoints[name] = module(x, branches, name, style)
    return endpoints


@dataclasses.dataclass(frozen=True)
class Operation:
    """Where a layer named by the module naming rule sits: module, branch (from 0), position
    (from 1), split ("a", "b" ... inside a `Split`, else ""), kind ("conv" or "pool")."""

    module: str
    branch: int
    position: int
    split: str
    kind: str


_OPERATION = re.compile(r"(.+?)_b(\d+)_(\d+)([a-z]?)_(conv|pool)")


def operation_at(name):
    """The naming rule read backwards: "mixed_7b_b1_2a_conv" -> Operation("mixed_7b", 1, 2,
    "a", "conv"); None for a layer that is not a module's conv or pool (stem, BN, concat).
    Weight converters map our layers to other libraries' modules with it."""
    match = _OPERATION.fullmatch(name)
    if match is None:
        return None
    module_name, branch_index, position, split, kind = match.groups()
    return Operation(module_name, int(branch_index), int(position), split, kind)


# --- the naming rule for weight conversion (each family module's rows use these) ------------


def torch_unit_names(module_of):
    """Names of a net of torch conv units (torchvision's BasicConv2d, timm's ConvNormAct: a
    conv `.conv` and its BN `.bn`), for the Inception family.

    `module_of(name, branches)` gives the torch module of our Conv2D or Dense layer `name`, or
    None where the source has none; `branches` maps (module, branch) of our Inception naming
    rule to that branch's `Operation`s, for sources whose names depend on a branch's length.
    Our Conv2D `name` with a BN `name_bn` is a unit, read from `{module}.conv` and
    `{module}.bn`; any other layer from the module itself.
    """

    def names(model):
        layers = {layer.name for layer in model.layers}
        branches = collections.defaultdict(list)
        for name in layers:
            operation = operation_at(name)
            if operation:
                branches[operation.module, operation.branch].append(operation)
        found = {}
        for layer in model.layers:
            if not isinstance(layer, (keras.layers.Conv2D, keras.layers.Dense)):
                continue
            module = module_of(layer.name, branches)
            if module is None:
                continue
            if f"{layer.name}_bn" in layers:
                found[layer.name], found[f"{layer.name}_bn"] = f"{module}.conv", f"{module}.bn"
            else:
                found[layer.name] = module
        return found

    return names


def timm_branch_module(prefix, operation, branches):
    """timm's module of a branch's conv: a branch of one operation is the unit itself
    (`branch0`), a longer one an nn.Sequential (`branch1.2`, pools counted), and one with an
    expanded filter bank flat attributes (`branch1_1a`: Inception-v4's InceptionC)."""
    ops = branches[operation.module, operation.branch]
    if any(op.split for op in ops):
        return f"{prefix}.branch{operation.branch}_{operation.position - 1}{operation.split}"
    if len({op.position for op in ops}) == 1:
        return f"{prefix}.branch{operation.branch}"
    return f"{prefix}.branch{operation.branch}.{operation.position - 1}"


def module_conv(name):
    """The Operation of a module's conv `name`, else None."""
    operation = operation_at(name)
    return operation if operation is not None and operation.kind == "conv" else None


def creation_order(model):
    """Sort key of our Inception layers in the order the builder made them. model.layers is
    sorted by depth, which interleaves a module's branches; a module's operations are ordered
    by (branch, position, split) after the layers before the module."""
    index = {layer.name: i for i, layer in enumerate(model.layers)}
    first = {}
    for name, i in index.items():
        operation = operation_at(name)
        if operation:
            first[operation.module] = min(first.get(operation.module, i), i)

    def key(layer):
        operation = operation_at(layer.name)
        if operation is None:
            return (index[layer.name], 0, 0, "")
        return (first[operation.module], operation.branch, operation.position, operation.split)

    return key


def keras_applications_plan(named):
    """Plan of an Inception net from keras.applications: the conv units (conv + BN
    `{conv}_bn`) that `named` does not name take its automatically named layers in creation
    order (weights/keras_layout.py, rank_auto_named); `named(our layer name)` gives the
    source's name of the other layers (or None)."""

    def plan_fn(model):
        layers = {layer.name: layer for layer in model.layers}
        units = sorted(
            (
                layer
                for layer in model.layers
                if isinstance(layer, keras.layers.Conv2D)
                and f"{layer.name}_bn" in layers
                and named(layer.name) is None
            ),
            key=creation_order(model),
        )
        plan = {}
        for rank, conv in enumerate(units):
            bn = layers[f"{conv.name}_bn"]
            plan[conv.name] = keras_layout.variables(conv, f"conv2d#{rank}")
            plan[bn.name] = keras_layout.variables(bn, f"batch_normalization#{rank}")
        for layer in model.layers:
            source = named(layer.name) if layer.weights and layer.name not in plan else None
            if source:
                plan[layer.name] = keras_layout.variables(layer, source)
        return plan

    return plan_fn
