"""Channel shuffle: IGC's interleaving permutation (Zhang et al. 2017), ShuffleNet's shuffle."""

import keras
import numpy as np
import tensorflow as tf


def shuffle_order(channels, groups):
    """Output channel k reads input channel shuffle_order(channels, groups)[k]: the channels,
    seen as `groups` rows of channels / groups, read column by column (reshape to (groups,
    channels / groups), transpose, flatten)."""
    return np.arange(channels).reshape(groups, channels // groups).T.reshape(-1)


@keras.saving.register_keras_serializable(package="keras_classics")
class ChannelShuffle(keras.layers.Layer):
    """Interleaves `groups` equal channel groups (channels last): output channel j * groups + i
    is channel j of group i.

    IGC V1 (Zhang et al. 2017) permutes the output of the primary group
    convolution (L groups of M channels) so that each of the M secondary groups takes one
    channel from every primary group, and permutes back after the secondary convolution: with
    channels = L * M, ChannelShuffle(L) then ChannelShuffle(M) is the identity. The authors'
    MXNet `Reorder(branch_factor=g)` operator is this permutation. ShuffleNet's channel
    shuffle (Zhang et al. 2018, section 3.1: "reshape ... (g, n), transposing and then
    flattening") is the same layer, and ShuffleNet reuses it.

    Computed as one gather on the channel axis with a constant index, not as the 5-D reshape
    and transpose of the papers: the TFLite GPU delegate rejects 5-D tensors, and a gather of
    a 4-D tensor is a builtin op of every runtime (TF, SavedModel, TFLite GATHER, ONNX).
    """

    def __init__(self, groups, **kwargs):
        super().__init__(**kwargs)
        if isinstance(groups, bool) or not isinstance(groups, int) or groups < 1:
            raise ValueError(
                f"ChannelShuffle groups={groups!r} is invalid; accepted: a positive integer."
            )
        self.groups = groups

    def build(self, input_shape):
        channels = input_shape[-1]
        if channels is None or channels % self.groups:
            raise ValueError(
                f"ChannelShuffle(groups={self.groups}) cannot split {channels} channels; "
                f"accepted: a known number of channels divisible by {self.groups}."
            )
        self._order = shuffle_order(channels, self.groups).astype("int32")

    def call(self, inputs):
        return tf.gather(inputs, self._order, axis=-1)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "groups": self.groups}
