"""VGG: Simonyan & Zisserman, "Very Deep Convolutional Networks for Large-Scale Image
Recognition", ICLR 2015, Table 1 (configurations A, A-LRN, B, C, D, E).
"""

import keras

from keras_classics.layers import LocalResponseNormalization
from keras_classics.models import _common

PAPER = "Simonyan & Zisserman 2015, Very Deep ConvNets, Table 1"

# Table 1, one tuple of kernel sizes per stage; every stage ends in a 2x2/2 max pool.
# Configuration C is D with the third conv of stages 3-5 a 1x1 ("conv1-256/512").
CONFIGS = {
    "A": ((3,), (3,), (3, 3), (3, 3), (3, 3)),
    "B": ((3, 3), (3, 3), (3, 3), (3, 3), (3, 3)),
    "C": ((3, 3), (3, 3), (3, 3, 1), (3, 3, 1), (3, 3, 1)),
    "D": ((3, 3), (3, 3), (3, 3, 3), (3, 3, 3), (3, 3, 3)),
    "E": ((3, 3), (3, 3), (3, 3, 3, 3), (3, 3, 3, 3), (3, 3, 3, 3)),
}
WIDTHS = (64, 128, 256, 512, 512)
FINAL_GRID = 7
FC_UNITS = 4096
DROPOUT = 0.5
# torchvision's vgg*_bn: BatchNorm2d defaults (eps 1e-5, momentum 0.1 = Keras 0.9).
BN = dict(epsilon=1e-5, momentum=0.9)


def conv_layer(x, filters, kernel, name, batch_norm):
    """conv (stride 1, 'same') [+ BN] + ReLU. The BN variants keep the conv bias, as torchvision."""
    x = keras.layers.Conv2D(filters, kernel, padding="same", name=name)(x)
    if batch_norm:
        x = keras.layers.BatchNormalization(**BN, name=f"{name}_bn")(x)
    return keras.layers.ReLU(name=f"{name}_relu")(x)


def stage(x, index, kernels, width, batch_norm, lrn):
    for j, kernel in enumerate(kernels, start=1):
        x = conv_layer(x, width, kernel, f"conv{index}_{j}", batch_norm)
        if lrn and index == 1 and j == 1:
            # A-LRN: "the LRN layer parameters are those of (Krizhevsky et al., 2012)".
            x = LocalResponseNormalization(name="conv1_1_norm")(x)
    return keras.layers.MaxPooling2D(2, strides=2, name=f"pool{index}")(x)


def fc_layer(x, units, name):
    x = keras.layers.Dense(units, activation="relu", name=name)(x)
    return keras.layers.Dropout(DROPOUT, name=f"{name}_drop")(x)


def _vgg(*, include_top, weights, input_tensor, input_shape, pooling, classes,
         classifier_activation, name, config, lrn, batch_norm):
    _common.check_args(include_top=include_top, weights=weights, pooling=pooling,
                       classes=classes)
    inputs = _common.make_input(input_tensor=input_tensor, input_shape=input_shape,
                                include_top=include_top, default_size=224, min_size=32)
    x = inputs
    for index, (kernels, width) in enumerate(zip(CONFIGS[config], WIDTHS), start=1):
        x = stage(x, index, kernels, width, batch_norm, lrn)

    def top(x):
        _common.check_grid(x, grid=FINAL_GRID, default_size=224, input_shape=input_shape)
        x = keras.layers.Flatten(name="flatten")(x)
        x = fc_layer(x, FC_UNITS, "fc6")
        x = fc_layer(x, FC_UNITS, "fc7")
        return _common.classifier(x, classes=classes,
                                  classifier_activation=classifier_activation)

    x = _common.pooled_or_top(x, include_top=include_top, pooling=pooling, top=top)
    return _common.finish(inputs, x, name=name, weights=weights)


# (registry name, builder, Table 1 column, LRN, BatchNorm)
TABLE = (
    ("vgg11", "VGG11", "A", False, False),
    ("vgg11_lrn", "VGG11LRN", "A", True, False),
    ("vgg13", "VGG13", "B", False, False),
    ("vgg16_c", "VGG16C", "C", False, False),
    ("vgg16", "VGG16", "D", False, False),
    ("vgg19", "VGG19", "E", False, False),
    ("vgg11_bn", "VGG11BN", "A", False, True),
    ("vgg13_bn", "VGG13BN", "B", False, True),
    ("vgg16_bn", "VGG16BN", "D", False, True),
    ("vgg19_bn", "VGG19BN", "E", False, True),
)


def _register(name, builder_name, config, lrn, batch_norm):
    extras = (" with LRN after conv1_1" if lrn else "") + (
        ", BatchNorm after every conv (torchvision's *_bn)" if batch_norm else "")
    doc = (f"VGG configuration {config}{extras} ({PAPER}).\n\n"
           "    224x224 input; the Flatten + fc6/fc7 head needs the 7x7 final grid.\n")
    return _common.register(
        name, builder_name, _vgg, doc,
        dict(family="vgg", default_size=224, min_size=32, preprocessing="torch",
             paper=PAPER, fixed_head=True),
        config=config, lrn=lrn, batch_norm=batch_norm)


VGG11, VGG11LRN, VGG13, VGG16C, VGG16, VGG19, VGG11BN, VGG13BN, VGG16BN, VGG19BN = (
    _register(*row) for row in TABLE)
