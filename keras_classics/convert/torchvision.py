"""torchvision checkpoints (torchvision.models state dicts) -> keras_classics models.

Every row: the torchvision name, our registry name and the builder options of torchvision's
variant, the name map of its family. torchvision's weights expect its ImageNet mean/std
normalisation ("torch" mode), 224x224 centre crops of images resized to 256.
"""

import re

from keras_classics.convert import torch_layout
from keras_classics.convert.core import Conversion, convert, find, table

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
# torchvision.models.AlexNet.classifier: Dropout, Linear, ReLU, Dropout, Linear, ReLU, Linear.
ALEXNET_PLAN = torch_layout.plan(torch_layout.sequential_names((1, 4, 6)))
# torchvision.models.VGG.classifier: Linear, ReLU, Dropout, Linear, ReLU, Dropout, Linear.
VGG_PLAN = torch_layout.plan(torch_layout.sequential_names((0, 3, 6)))


def _row(name, model, plan, head, **builder_kwargs):
    return Conversion(source=SOURCE, name=name, model=model, plan=plan, preprocessing="torch",
                      builder_kwargs=builder_kwargs, head=head, ignored=torch_layout.IGNORED)


# ResNet v1.5: torchvision strides the bottleneck's 3x3 conv, not the paper's first 1x1.
V15 = dict(downsample_at="3x3")

ROWS = table(
    _row("alexnet", "alexnet", ALEXNET_PLAN, ("classifier.",), variant="torchvision"),
    *(_row(f"vgg{depth}{bn}", f"vgg{depth}{bn}", VGG_PLAN, ("classifier.",))
      for bn in ("", "_bn") for depth in (11, 13, 16, 19)),
    _row("resnet18", "resnet18", RESNET_PLAN, ("fc.",)),
    _row("resnet34", "resnet34", RESNET_PLAN, ("fc.",)),
    *(_row(name, name, RESNET_PLAN, ("fc.",), **V15)
      for name in ("resnet50", "resnet101", "resnet152")),
    # ResNeXt builders stride the 3x3 by default (ResNeXt paper); recorded explicitly.
    *(_row(name, name, RESNET_PLAN, ("fc.",), **V15)
      for name in ("resnext50_32x4d", "resnext101_32x8d", "resnext101_64x4d")),
)


def from_torchvision(name, checkpoint, **builder_kwargs):
    """Our model of torchvision's `name` with the weights of `checkpoint` loaded.

    Args:
      name: the torchvision model name (`list_convertible()["torchvision"]`).
      checkpoint: a .pth/.pt or .safetensors path, or a state dict (tensors or arrays).
      **builder_kwargs: builder options (include_top, classes, input_shape,
        classifier_activation ...); the options of torchvision's variant are set already.
    Returns:
      the keras.Model; it takes NHWC RGB input normalised as torchvision's
      (`preprocess_input(x, "torch")`).
    """
    return convert(find(ROWS, SOURCE, name), checkpoint, **builder_kwargs)
