"""timm checkpoints (timm.create_model state dicts, hub model.safetensors) -> keras_classics.

timm's ResNet family uses torchvision's module names (conv1, bn1, layer1.0.conv1, downsample.0,
fc) and strides the bottleneck's 3x3 conv, so its rows reuse torchvision's name map; so does
its inception_v3 (torchvision's Inception3 names, AuxLogits included). Its inception_v4 and
inception_resnet_v2 (ports of the TF-slim release) have name maps of their own. Each row
records the preprocessing of timm's pretrained config for the model.
"""

import functools
import re

from keras_classics.convert import torch_layout
from keras_classics.convert.core import convert, find, table
from keras_classics.convert.torchvision import INCEPTION_V3_PLAN, RESNET_PLAN
from keras_classics.models._inception import operation_at
from keras_classics.preprocessing import InputConfig

SOURCE = "timm"


def branch_module(prefix, operation, branches):
    """timm's module of a branch's conv: a branch of one operation is the unit itself
    (`branch0`), a longer one an nn.Sequential (`branch1.2`, pools counted), and one with an
    expanded filter bank flat attributes (`branch1_1a`: Inception-v4's InceptionC)."""
    ops = branches[operation.module, operation.branch]
    if any(op.split for op in ops):
        return f"{prefix}.branch{operation.branch}_{operation.position - 1}{operation.split}"
    if len({op.position for op in ops}) == 1:
        return f"{prefix}.branch{operation.branch}"
    return f"{prefix}.branch{operation.branch}.{operation.position - 1}"


def _module_conv(name):
    operation = operation_at(name)
    return operation if operation is not None and operation.kind == "conv" else None


_V4_NAMED = {
    "conv_1a_3x3": "features.0",
    "conv_2a_3x3": "features.1",
    "conv_2b_3x3": "features.2",
    "predictions": "last_linear",
}


def inception_v4_module(name, branches):
    """Stem convs -> features.0-2; module k of mixed_3a ... mixed_7d -> features.{3 + k};
    predictions -> last_linear."""
    if name in _V4_NAMED:
        return _V4_NAMED[name]
    operation = _module_conv(name)
    if operation is None:
        return None
    # The TF-slim end point names sort in network order.
    modules = sorted({module for module, _ in branches})
    prefix = f"features.{3 + modules.index(operation.module)}"
    if all(len(ops) == 1 for (module, _), ops in branches.items() if module == operation.module):
        return f"{prefix}.conv"  # Mixed3a, Mixed5a: a max pool and one conv named `conv`
    return branch_module(prefix, operation, branches)


_IRV2_STEM = re.compile(r"conv_(\d[a-z])_\dx\d")
_IRV2_BLOCK = re.compile(r"block(35|17|8)_(\d+)")
_IRV2_REPEAT = {"35": "repeat", "17": "repeat_1", "8": "repeat_2"}


def _irv2_block(block, branches):
    """block35_k, block17_k, block8_k -> repeat.{k-1}, repeat_1.{k-1}, repeat_2.{k-1}; the last
    8x8 block (unscaled, no ReLU) is timm's `block8`."""
    grid, index = _IRV2_BLOCK.fullmatch(block).groups()
    last = max(
        int(m[2])
        for m in (_IRV2_BLOCK.fullmatch(module) for module, _ in branches)
        if m and m[1] == "8"
    )
    return (
        "block8" if grid == "8" and int(index) == last else f"{_IRV2_REPEAT[grid]}.{int(index) - 1}"
    )


def inception_resnet_v2_module(name, branches):
    """conv_1a_3x3 ... conv_7b_1x1 -> conv2d_1a ... conv2d_7b; mixed_5b/6a/7a keep their
    names; blocks -> repeat*.k (their linear 1x1 `_up_conv` -> `.conv2d`); predictions ->
    classif."""
    if name == "predictions":
        return "classif"
    match = _IRV2_STEM.fullmatch(name)
    if match:
        return f"conv2d_{match[1]}"
    if name.endswith("_up_conv"):
        return f"{_irv2_block(name[: -len('_up_conv')], branches)}.conv2d"
    operation = _module_conv(name)
    if operation is None:
        return None
    prefix = (
        _irv2_block(operation.module, branches)
        if _IRV2_BLOCK.fullmatch(operation.module)
        else operation.module
    )
    return branch_module(prefix, operation, branches)


# timm's pretrained configs (timm.models.get_pretrained_cfg): mean = std = 0.5 ([-1, 1],
# "tf"), 299, crop 0.875 (Inception-ResNet-v2: 0.8975), bicubic resize; inception_v3.gluon_in1k
# and resnext101_32x4d take ImageNet mean/std ("torch"). resnext101_32x4d's default tag
# (fb_ssl_yfcc100m_ft_in1k, as fb_swsl) resizes bilinearly, its gluon_in1k tag bicubically.
TF_299 = InputConfig("tf", 299, interpolation="bicubic")
TORCH_299 = InputConfig("torch", 299, interpolation="bicubic")
_row = functools.partial(torch_layout.row, SOURCE, input=TF_299)


# timm's Inception-v3 pools as torchvision's (padding counted); its tv_in1k checkpoint holds
# AuxLogits, converted when the model is built with aux_logits=True.
_INCEPTION_V3 = dict(
    plan=INCEPTION_V3_PLAN, head=("fc.",), aux=("AuxLogits.",), avg_pool_counts_padding=True
)

ROWS = table(
    _row(
        "resnext101_32x4d",
        "resnext101_32x4d",
        RESNET_PLAN,
        ("fc.",),
        input=InputConfig("torch", 224),
        downsample_at="3x3",
    ),
    _row("inception_v3", "inception_v3", **_INCEPTION_V3),
    _row("inception_v3.gluon_in1k", "inception_v3", input=TORCH_299, **_INCEPTION_V3),
    _row(
        "inception_v4",
        "inception_v4",
        torch_layout.plan(torch_layout.unit_names(inception_v4_module)),
        ("last_linear.",),
    ),
    _row(
        "inception_resnet_v2",
        "inception_resnet_v2",
        torch_layout.plan(torch_layout.unit_names(inception_resnet_v2_module)),
        ("classif.",),
        input=TF_299.replace(crop_ratio=0.8975),
    ),
)


def from_timm(name, checkpoint, **builder_kwargs):
    """Our model of timm's `name` with the weights of `checkpoint` loaded.

    Args:
      name: the timm model name (`list_convertible()["timm"]`); a pretrained tag
        ("resnext101_32x4d.gluon_in1k") picks the tag's row where the table has one, else
        the architecture's.
      checkpoint: a .pth/.pt/.bin or .safetensors path (timm's hub files are
        model.safetensors / pytorch_model.bin), or a state dict.
      **builder_kwargs: builder options (include_top, classes, classifier_activation ...).
    Returns:
      the keras.Model, taking NHWC RGB input prepared as the row's preprocessing mode says.
    """
    return convert(find_tagged(name), checkpoint, **builder_kwargs)


def find_tagged(name):
    """The row of "arch.tag" if the table has one (a tag whose preprocessing differs, as
    inception_v3.gluon_in1k's), else the row of "arch"."""
    if isinstance(name, str) and name not in ROWS and "." in name:
        name = name.split(".")[0]
    return find(ROWS, SOURCE, name)
