"""Custom layers, one per module, each registered for serialization under "keras_classics"."""

from keras_classics.layers.channel_pad import ChannelZeroPad
from keras_classics.layers.channel_shuffle import ChannelShuffle
from keras_classics.layers.channel_split import ChannelSplit
from keras_classics.layers.conv import Conv2D
from keras_classics.layers.dropout import GlobalBatchDropout
from keras_classics.layers.global_batchnorm import GlobalBatchNormalization
from keras_classics.layers.group_conv import GroupConv2D
from keras_classics.layers.input_normalization import InputNormalization
from keras_classics.layers.interp import Interp
from keras_classics.layers.lrn import LocalResponseNormalization
from keras_classics.layers.scaled_residual import ScaledResidual
from keras_classics.layers.squeeze_excite import SqueezeExcite
from keras_classics.layers.stochastic_depth import StochasticDepth
from keras_classics.layers.ws_conv import ScaledStdConv2D

__all__ = [
    "ChannelShuffle",
    "ChannelSplit",
    "ChannelZeroPad",
    "Conv2D",
    "GlobalBatchDropout",
    "GlobalBatchNormalization",
    "GroupConv2D",
    "InputNormalization",
    "Interp",
    "LocalResponseNormalization",
    "ScaledResidual",
    "ScaledStdConv2D",
    "SqueezeExcite",
    "StochasticDepth",
]
