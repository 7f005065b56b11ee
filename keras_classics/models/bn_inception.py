"""BN-Inception: Ioffe & Szegedy, "Batch Normalization: Accelerating Deep Network Training by
Reducing Internal Covariate Shift", ICML 2015, section 4.2 and the Figure 5 table
("Inception-v2" in TF-slim, the authors' release: research/slim/nets/inception_v2.py).

GoogLeNet with BN after every convolution, each 5x5 conv replaced by two 3x3 convs ("double
#3x3"), average pooling in most pool branches, and the stride-2 modules 3c and 4e in place of
GoogLeNet's max pools between grids.
"""

import keras

from keras_classics.models import _core, _heads, _inception
from keras_classics.models._inception import Conv, ConvStyle, Pool

PAPER = "Ioffe & Szegedy 2015, Batch Normalization (BN-Inception), Figure 5"

# The paper's BN has a learned scale gamma and shift beta (Algorithm 1), so BN keeps its scale
# here (TF-slim drops gamma because a ReLU follows); convs have no bias (beta replaces it).
STYLE = ConvStyle(batch_norm=True, scale=True, epsilon=1e-3)
DROPOUT = 0.2  # TF-slim's dropout_keep_prob=0.8; the paper gives none.


def inception(n1x1, n3x3_reduce, n3x3, dbl_reduce, dbl, pool_kind, pool_proj):
    """One Figure 5 row: #1x1 | #3x3 reduce -> #3x3 | double #3x3 reduce -> two #3x3 |
    avg or max pool -> pool proj."""
    return (
        (Conv(n1x1, 1),),
        (Conv(n3x3_reduce, 1), Conv(n3x3, 3)),
        (Conv(dbl_reduce, 1), Conv(dbl, 3), Conv(dbl, 3)),
        (Pool(pool_kind), Conv(pool_proj, 1)),
    )


def reduction(n3x3_reduce, n3x3, dbl_reduce, dbl):
    """A stride-2 row (3c, 4e): #1x1 0, the last conv of each 3x3 branch stride 2, and a
    3x3/2 max pool passed through."""
    return (
        (Conv(n3x3_reduce, 1), Conv(n3x3, 3, stride=2)),
        (Conv(dbl_reduce, 1), Conv(dbl, 3), Conv(dbl, 3, stride=2)),
        (Pool("max", stride=2),),
    )


# Figure 5 table; 5b ("max + 128") has the only max-pool branch outside the stride-2 rows.
# Output widths 256, 320 | 576 (3c-4d) | 1024 (4e-5b), the table's sizes. The pool
# projections of 4c and 4d are TF-slim's 96, the widths that give those 576 channels (Caffe
# ports with 128 there grow to 608 and 1056 channels).
MODULES = (
    ("inception_3a", inception(64, 64, 64, 64, 96, "avg", 32)),
    ("inception_3b", inception(64, 64, 96, 64, 96, "avg", 64)),
    ("inception_3c", reduction(128, 160, 64, 96)),
    ("inception_4a", inception(224, 64, 96, 96, 128, "avg", 128)),
    ("inception_4b", inception(192, 96, 128, 96, 128, "avg", 128)),
    ("inception_4c", inception(160, 128, 160, 128, 160, "avg", 96)),
    ("inception_4d", inception(96, 128, 192, 160, 192, "avg", 96)),
    ("inception_4e", reduction(128, 192, 192, 256)),
    ("inception_5a", inception(352, 192, 320, 160, 224, "avg", 128)),
    ("inception_5b", inception(352, 192, 320, 192, 224, "max", 128)),
)


def stem(x):
    """Figure 5 up to 3a: conv 7x7/2, max pool 3x3/2, conv 1x1 64, conv 3x3 192, max pool."""
    # The paper's 7x7 conv is an ordinary convolution (TF-slim defaults to a depthwise-
    # separable one with depth multiplier 8, a later speed-up). Every conv and pool pads 'same'
    # as TF-slim's inception_v2.
    x = _inception.conv_unit(x, Conv(64, 7, stride=2), "conv1", STYLE)
    x = keras.layers.MaxPooling2D(3, strides=2, padding="same", name="pool1")(x)
    x = _inception.conv_unit(x, Conv(64, 1), "conv2_reduce", STYLE)
    x = _inception.conv_unit(x, Conv(192, 3), "conv2", STYLE)
    return keras.layers.MaxPooling2D(3, strides=2, padding="same", name="pool2")(x)


def body(x, config):
    return _inception.modules({"pool2": stem(x)}, MODULES, STYLE)


def configure(row):
    # Five stride-2 steps ('same' padding everywhere): 32 gives a 1x1 final grid, as 224 7x7.
    return _core.Architecture(
        None, default_size=224, min_size=32, head=_heads.pool_head(dropout=DROPOUT)
    )


BN_INCEPTION = _inception.family(PAPER, configure, body)

BNInception = BN_INCEPTION.register(
    "bn_inception",
    "BNInception",
    None,
    """BN-Inception, TF-slim's "inception_v2".

    224x224 input; BN (with scale) after every conv, convs without bias; the final 7x7
    average pool is a global average pool; dropout 0.2 (TF-slim's keep probability 0.8).
    No auxiliary classifiers (TF-slim has none).
    """,
)
