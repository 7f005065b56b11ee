"""The conversion entry points (keras_classics.convert's public functions; see its docstring)."""

from keras_classics.models import get_model
from keras_classics.weights.checkpoint import read_checkpoint
from keras_classics.weights.conversion import (
    INFO_ATTRIBUTE,
    SOURCES,
    assign,
    builder_kwargs,
    check_output,
    conversions,
    find,
    read_weights_info,
    save_weights,
)


def list_convertible():
    """{source: [source model names]} of every conversion this package knows."""
    return {source: list(conversions(source)) for source in SOURCES}


def get_conversion(source, name):
    """The `Conversion` row of `name` in `source` ("torchvision", "timm", "keras.applications");
    a timm pretrained tag ("arch.tag") picks the tag's row where there is one, else the
    architecture's."""
    return find(source, name)


def convert(source, name, checkpoint, **kwargs):
    """A keras.Model of `source`'s model `name` with the weights of `checkpoint` loaded.

    Args:
      source: "torchvision", "timm" or "keras.applications".
      name: the source's model name (`list_convertible()[source]`; timm: a pretrained tag
        "arch.tag" picks the tag's row where the table has one).
      checkpoint: a .pth/.pt/.bin or .safetensors path, a .h5 weights file
        (keras.applications), a state dict, or a keras.Model built by keras.applications.
      **kwargs: builder options (include_top, classes, input_shape, classifier_activation
        ...); the options of the source's variant are set already and may not be changed.
    Returns:
      the keras.Model; it takes NHWC RGB input prepared as the row's `input` says
      (`preprocess_input(x, row.input.mode)`).
    """
    row = find(source, name)
    kwargs = builder_kwargs(row, kwargs)
    state = read_checkpoint(checkpoint)
    return assign(row, get_model(row.model, **kwargs), state)


def from_torchvision(name, checkpoint, **builder_kwargs):
    """Our model of torchvision's `name` with `checkpoint` loaded (`convert`): torchvision's
    normalisation ("torch"), or [-1, 1] ("tf") for googlenet and inception_v3, whose
    transform_input step is folded into that preprocessing."""
    return convert("torchvision", name, checkpoint, **builder_kwargs)


def from_timm(name, checkpoint, **builder_kwargs):
    """Our model of timm's `name` (or "arch.tag") with `checkpoint` loaded (`convert`)."""
    return convert("timm", name, checkpoint, **builder_kwargs)


def from_keras_applications(name, checkpoint, **builder_kwargs):
    """Our model of keras.applications' `name` ("ResNet50", "VGG16" ...) with `checkpoint`
    loaded (`convert`): "caffe" preprocessing for ResNet and VGG, "tf" for the Inception nets."""
    return convert("keras.applications", name, checkpoint, **builder_kwargs)


def convert_file(source, name, checkpoint, output, **builder_kwargs):
    """Converts `checkpoint` and writes `output` (.weights.h5) recording its WeightsInfo.

    The file loads with the builder's weights= argument (with the recorded builder options:
    `read_weights_info(output).build(weights=output)` does both). Returns the WeightsInfo.
    """
    row = get_conversion(source, name)
    check_output(output)  # before the work, not after it
    model = convert(source, name, checkpoint, **builder_kwargs)
    return save_weights(model, row, output, builder_kwargs)


def load_converted(path, **kwargs):
    """The model a converted weights file was made for, with the file loaded.

    `kwargs` override the recorded builder options that do not change the weights (e.g.
    classifier_activation=None, input_shape). Raises ValueError for a file without
    conversion info (build those with their builder and weights=).
    """
    info = read_weights_info(path)
    if info is None:
        raise ValueError(
            f"weights={str(path)!r} records no conversion info (attribute "
            f"{INFO_ATTRIBUTE!r}); accepted: a file written by convert_file or "
            "`python -m keras_classics.convert`."
        )
    return info.build(weights=path, **kwargs)
