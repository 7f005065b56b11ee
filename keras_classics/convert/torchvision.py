"""torchvision checkpoints (torchvision.models state dicts) -> keras_classics models.

Every row: the torchvision name, our registry name and the builder options of torchvision's
variant, the name map of its family. torchvision's weights expect its ImageNet mean/std
normalisation ("torch" mode), 224x224 centre crops of images resized to 256, except
googlenet and inception_v3 ([-1, 1], "tf" mode; inception_v3 at 299 out of 342).
"""

import functools
import re

from keras_classics.convert import torch_layout
from keras_classics.convert.core import convert, find, table
from keras_classics.models._inception import operation_at
from keras_classics.preprocessing import InputConfig

SOURCE = "torchvision"
_RESNET_LAYER = re.compile(r"conv(\d)_block(\d+)_(\d)_(conv|bn)")


def resnet_module(name):
    """Our ResNet layer name (keras.applications naming) -> torchvision's module.

    conv1_conv/bn -> conv1/bn1; conv{s}_block{b}_{k}_conv/bn -> layer{s-1}.{b-1}.conv{k}/bn{k};
    the projection shortcut conv{s}_block{b}_0_* -> layer{s-1}.{b-1}.downsample.0/1;
    predictions -> fc. Returns None for a layer torchvision does not have.
    """
    if name in ("conv1_conv", "conv1_bn", "predictions"):
        return {"conv1_conv": "conv1", "conv1_bn": "bn1", "predictions": "fc"}[name]
    match = _RESNET_LAYER.fullmatch(name)
    if not match:
        return None
    stage, block, index, kind = match.groups()
    prefix = f"layer{int(stage) - 1}.{int(block) - 1}"
    if index == "0":
        return f"{prefix}.downsample.{0 if kind == 'conv' else 1}"
    return f"{prefix}.{kind}{index}"


def resnet_names(model):
    names = {layer.name: resnet_module(layer.name) for layer in model.layers if layer.weights}
    return {k: v for k, v in names.items() if v is not None}


RESNET_PLAN = torch_layout.plan(resnet_names)
# Our GoogLeNet (Caffe names) -> torchvision's: stem units, then the inception branches.
_GOOGLENET_STEM = {"conv1": "conv1", "conv2_reduce": "conv2", "conv2": "conv3", "predictions": "fc"}
_GOOGLENET_BRANCH = {
    "1x1": "branch1",
    "3x3_reduce": "branch2.0",
    "3x3": "branch2.1",
    "5x5_reduce": "branch3.0",
    "5x5": "branch3.1",
    "pool_proj": "branch4.1",
}
_GOOGLENET_UNIT = re.compile(r"inception_(\d[a-e])_(\w+)")


def googlenet_module(name, _):
    """conv1, conv2_reduce, conv2 -> conv1, conv2, conv3; inception_3a_3x3_reduce ->
    inception3a.branch2.0 ...; predictions -> fc. The aux heads are not mapped (see ROWS)."""
    if name in _GOOGLENET_STEM:
        return _GOOGLENET_STEM[name]
    match = _GOOGLENET_UNIT.fullmatch(name)
    if match and match[2] in _GOOGLENET_BRANCH:
        return f"inception{match[1]}.{_GOOGLENET_BRANCH[match[2]]}"
    return None


# torchvision's (and timm's) Inception3: the branch attributes of InceptionA (mixed_5b-d),
# InceptionB (mixed_6a), InceptionC (mixed_6b-e), InceptionD (mixed_7a), InceptionE (mixed_7b,
# 7c), in our branch order.
_V3_BRANCHES = {
    "5": ("branch1x1", "branch5x5", "branch3x3dbl", "branch_pool"),
    "6a": ("branch3x3", "branch3x3dbl"),
    "6": ("branch1x1", "branch7x7", "branch7x7dbl", "branch_pool"),
    "7a": ("branch3x3", "branch7x7x3"),
    "7": ("branch1x1", "branch3x3", "branch3x3dbl", "branch_pool"),
}
_V3_NAMED = {
    "predictions": "fc",
    "aux1_1_conv": "AuxLogits.conv0",
    "aux1_2_conv": "AuxLogits.conv1",
    "aux1_predictions": "AuxLogits.fc",
}
_V3_STEM = re.compile(r"conv_(\d[a-z]_\dx\d)")


def inception_v3_module(name, branches):
    """conv_1a_3x3 -> Conv2d_1a_3x3; mixed_5b_b1_2_conv -> Mixed_5b.branch5x5_2: a branch of
    one conv is the unit itself (branch1x1, branch_pool), a longer one numbers its convs from
    1 (branch3x3_2a in a Split); aux1_* -> AuxLogits.conv0, conv1, fc; predictions -> fc."""
    if name in _V3_NAMED:
        return _V3_NAMED[name]
    match = _V3_STEM.fullmatch(name)
    if match:
        return f"Conv2d_{match[1]}"
    operation = operation_at(name)
    if operation is None or operation.kind != "conv":
        return None
    grid = operation.module[len("mixed_") :]
    prefix = _V3_BRANCHES[grid if grid in _V3_BRANCHES else grid[0]][operation.branch]
    convs = [op for op in branches[operation.module, operation.branch] if op.kind == "conv"]
    suffix = "" if len(convs) == 1 else f"_{operation.position}{operation.split}"
    return f"{operation.module.capitalize()}.{prefix}{suffix}"


GOOGLENET_PLAN = torch_layout.plan(torch_layout.unit_names(googlenet_module))
INCEPTION_V3_PLAN = torch_layout.plan(torch_layout.unit_names(inception_v3_module))
# torchvision.models.AlexNet.classifier: Dropout, Linear, ReLU, Dropout, Linear, ReLU, Linear.
ALEXNET_PLAN = torch_layout.plan(torch_layout.sequential_names((1, 4, 6)))
# torchvision.models.VGG.classifier: Linear, ReLU, Dropout, Linear, ReLU, Dropout, Linear.
VGG_PLAN = torch_layout.plan(torch_layout.sequential_names((0, 3, 6)))


# torchvision's ImageClassification eval transform: bilinear resize to 256 (Inception-v3: 342),
# centre crop 224 (299), ImageNet mean/std.
TORCH_224 = InputConfig("torch", 224)
_row = functools.partial(torch_layout.row, SOURCE, input=TORCH_224)


# ResNet v1.5: torchvision strides the bottleneck's 3x3 conv, not the paper's first 1x1.
V15 = dict(downsample_at="3x3")

ROWS = table(
    _row("alexnet", "alexnet", ALEXNET_PLAN, ("classifier.",), variant="torchvision"),
    *(
        _row(f"vgg{depth}{bn}", f"vgg{depth}{bn}", VGG_PLAN, ("classifier.",))
        for bn in ("", "_bn")
        for depth in (11, 13, 16, 19)
    ),
    # torchvision's pretrained googlenet and inception_v3 are built with transform_input=True:
    # the model maps its mean/std-normalised input back to (x / 255 - 0.5) / 0.5 before the
    # first conv, so the layers (and our converted model, which has no such step) take [-1, 1]
    # input: preprocessing "tf" equals torchvision's model on its own "torch" normalisation.
    # GoogLeNet's aux heads (aux1., aux2.) pool adaptively to 4x4 where ours pool 5x5/3 (the
    # paper's), and torchvision never trained them: not converted, aux_logits=True refused.
    _row(
        "googlenet",
        "googlenet",
        GOOGLENET_PLAN,
        ("fc.",),
        input=InputConfig("tf", 224),
        aux=("aux1.", "aux2."),
        variant="torchvision",
        aux_logits=False,
    ),
    # Inception-v3: 342 -> 299 centre crop; AuxLogits converts into our aux head when the
    # model is built with aux_logits=True. Its modules' avg_pool2d(3, 1, padding=1) count the
    # padding.
    _row(
        "inception_v3",
        "inception_v3",
        INCEPTION_V3_PLAN,
        ("fc.",),
        input=InputConfig("tf", 299, crop_ratio=299 / 342),
        aux=("AuxLogits.",),
        avg_pool_counts_padding=True,
    ),
    _row("resnet18", "resnet18", RESNET_PLAN, ("fc.",)),
    _row("resnet34", "resnet34", RESNET_PLAN, ("fc.",)),
    *(
        _row(name, name, RESNET_PLAN, ("fc.",), **V15)
        for name in ("resnet50", "resnet101", "resnet152")
    ),
    # ResNeXt builders stride the 3x3 by default (ResNeXt paper); recorded explicitly.
    *(
        _row(name, name, RESNET_PLAN, ("fc.",), **V15)
        for name in ("resnext50_32x4d", "resnext101_32x8d", "resnext101_64x4d")
    ),
)


def from_torchvision(name, checkpoint, **builder_kwargs):
    """Our model of torchvision's `name` with the weights of `checkpoint` loaded.

    Args:
      name: the torchvision model name (`list_convertible()["torchvision"]`).
      checkpoint: a .pth/.pt or .safetensors path, or a state dict (tensors or arrays).
      **builder_kwargs: builder options (include_top, classes, input_shape,
        classifier_activation ...); the options of torchvision's variant are set already.
    Returns:
      the keras.Model; it takes NHWC RGB input prepared as the row's preprocessing says:
      torchvision's normalisation (`preprocess_input(x, "torch")`), or [-1, 1]
      (`preprocess_input(x, "tf")`) for googlenet and inception_v3, whose transform_input
      step is folded into that preprocessing.
    """
    return convert(find(ROWS, SOURCE, name), checkpoint, **builder_kwargs)
