"""Local response normalisation (Krizhevsky et al. 2012, section 3.3)."""

import keras
import tensorflow as tf

ALPHA_CONVENTIONS = ("paper", "caffe")


@keras.saving.register_keras_serializable(package="keras_classics")
class LocalResponseNormalization(keras.layers.Layer):
    """b_i = a_i / (k + alpha * sum_{j=i-n/2}^{i+n/2} a_j^2) ** beta, across channels.

    Defaults are the AlexNet paper's: n=5, k=2, alpha=1e-4, beta=0.75.

    Conventions for alpha:
      - "paper" (default): alpha multiplies the raw sum of squares, as in the AlexNet formula.
        This is also what `tf.nn.local_response_normalization(alpha=...)` does, with
        depth_radius = n // 2 and bias = k.
      - "caffe": Caffe's LRN layer (and PyTorch's nn.LocalResponseNorm) divides alpha by n,
        so a Caffe model with alpha=1e-4 normalises 5x more weakly than the paper's formula
        with the same number. Use this to reproduce Caffe/BVLC or torchvision-era models.

    Implemented with tf.nn.local_response_normalization, which converts to the TFLite
    builtin LOCAL_RESPONSE_NORMALIZATION; that op has no float64 kernel, so float64 inputs
    (the replica-equivalence checks, keras_classics.training.equivalence) take the same
    formula written out: the window's sum of squares as a 1-D convolution over channels.
    bfloat16 inputs (mixed_bfloat16) are normalised in float32 (no CPU kernel).
    """

    def __init__(self, size=5, bias=2.0, alpha=1e-4, beta=0.75, alpha_convention="paper", **kwargs):
        super().__init__(**kwargs)
        if not isinstance(size, int) or size < 1 or size % 2 == 0:
            raise ValueError(
                f"LocalResponseNormalization size={size!r} is invalid; "
                "accepted: a positive odd integer (the window is centred)."
            )
        if alpha_convention not in ALPHA_CONVENTIONS:
            raise ValueError(
                f"LocalResponseNormalization alpha_convention="
                f"{alpha_convention!r} is invalid; accepted: {ALPHA_CONVENTIONS}."
            )
        self.size = size
        self.bias = float(bias)
        self.alpha = float(alpha)
        self.beta = float(beta)
        self.alpha_convention = alpha_convention

    @property
    def effective_alpha(self):
        """The coefficient of the raw sum of squares."""
        return self.alpha / self.size if self.alpha_convention == "caffe" else self.alpha

    def call(self, inputs):
        if inputs.dtype == tf.float64:
            return self._written_out(inputs)
        if inputs.dtype == tf.bfloat16:
            # TensorFlow's CPU kernel takes float16 and float32 only: mixed_bfloat16 models
            # normalise in float32, as Keras computes BatchNorm's moments.
            return tf.cast(self.call(tf.cast(inputs, tf.float32)), tf.bfloat16)
        return tf.nn.local_response_normalization(
            inputs,
            depth_radius=self.size // 2,
            bias=self.bias,
            alpha=self.effective_alpha,
            beta=self.beta,
        )

    def _written_out(self, x):
        shape = tf.shape(x)
        squares = tf.reshape(tf.square(x), [-1, shape[-1], 1])
        window = tf.ones([self.size, 1, 1], x.dtype)  # zero-padded at both ends ("SAME")
        sums = tf.reshape(tf.nn.conv1d(squares, window, stride=1, padding="SAME"), shape)
        return x / tf.pow(self.bias + self.effective_alpha * sums, self.beta)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "size": self.size,
            "bias": self.bias,
            "alpha": self.alpha,
            "beta": self.beta,
            "alpha_convention": self.alpha_convention,
        }
