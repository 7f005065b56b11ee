"""Pretrained weights by conversion from torchvision, timm and keras.applications checkpoints.

    from keras_classics import convert
    model = convert.from_torchvision("resnext50_32x4d", "resnext50_32x4d-1a0047aa.pth")
    convert.convert_file("torchvision", "resnext50_32x4d", "ckpt.pth", "rx50.weights.h5")
    info = convert.read_weights_info("rx50.weights.h5")   # model, options, preprocessing
    model = info.build(weights="rx50.weights.h5")

One module per source holds its table of rows (source name -> our builder, its options, the
name map, the preprocessing); core.py reads, validates and assigns; checkpoint.py reads files.
See docs/convert.md.
"""

from keras_classics.convert import keras_applications, timm, torchvision
from keras_classics.convert.checkpoint import read_checkpoint
from keras_classics.convert.core import (
    INFO_ATTRIBUTE,
    Conversion,
    WeightsInfo,
    check_output,
    find,
    read_weights_info,
    save_weights,
)
from keras_classics.convert.keras_applications import from_keras_applications
from keras_classics.convert.timm import from_timm
from keras_classics.convert.torchvision import from_torchvision

# source name -> (conversion function, table of rows)
SOURCES = {
    torchvision.SOURCE: (from_torchvision, torchvision.ROWS),
    timm.SOURCE: (from_timm, timm.ROWS),
    keras_applications.SOURCE: (from_keras_applications, keras_applications.ROWS),
}


def list_convertible():
    """{source: [source model names]} of every conversion this package knows."""
    return {source: list(rows) for source, (_, rows) in SOURCES.items()}


def get_conversion(source, name):
    """The `Conversion` row of `name` in `source` ("torchvision", "timm", "keras.applications")."""
    if source not in SOURCES:
        raise ValueError(f"source={source!r} is invalid; accepted: {tuple(SOURCES)}.")
    if source == timm.SOURCE:
        return timm.find_tagged(name)  # a pretrained tag names weights, not an architecture
    return find(SOURCES[source][1], source, name)


def convert_file(source, name, checkpoint, output, **builder_kwargs):
    """Converts `checkpoint` and writes `output` (.weights.h5) recording its WeightsInfo.

    The file loads with the builder's weights= argument (with the recorded builder options:
    `read_weights_info(output).build(weights=output)` does both). Returns the WeightsInfo.
    """
    row = get_conversion(source, name)
    check_output(output)  # before the work, not after it
    model = SOURCES[source][0](name, checkpoint, **builder_kwargs)
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


__all__ = [
    "Conversion",
    "SOURCES",
    "WeightsInfo",
    "convert_file",
    "from_keras_applications",
    "from_timm",
    "from_torchvision",
    "get_conversion",
    "list_convertible",
    "load_converted",
    "read_checkpoint",
    "read_weights_info",
]
