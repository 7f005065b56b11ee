"""timm checkpoints (timm.create_model state dicts, hub model.safetensors) -> keras_classics.

timm's ResNet family uses torchvision's module names (conv1, bn1, layer1.0.conv1, downsample.0,
fc) and strides the bottleneck's 3x3 conv, so its rows reuse torchvision's name map. Each row
records the preprocessing of timm's pretrained config for the model.
"""

from keras_classics.convert import torch_layout
from keras_classics.convert.core import Conversion, convert, find, table
from keras_classics.convert.torchvision import RESNET_PLAN

SOURCE = "timm"

ROWS = table(
    # timm "resnext101_32x4d" (gluon / fb_ssl / fb_swsl tags): ImageNet mean/std, 224, 0.875.
    Conversion(source=SOURCE, name="resnext101_32x4d", model="resnext101_32x4d",
               plan=RESNET_PLAN, preprocessing="torch", builder_kwargs=dict(downsample_at="3x3"),
               head=("fc.",), ignored=torch_layout.IGNORED),
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
