"""Activation functions the families need beyond Keras' own, registered for serialization (an
Activation layer of one loads with safe_mode=True)."""

import math

import keras


@keras.saving.register_keras_serializable(package="keras_classics")
def gelu(x):
    """GELU, x Phi(x) = x (1 + erf(x / sqrt(2))) / 2 (Hendrycks & Gimpel 2016), exact (not the
    tanh approximation): torch's F.gelu, timm's NFNets'.

    Keras' gelu(approximate=False) is the same function computed through erfc, which tf2onnx
    does not convert (TF 2.21, tf2onnx 1.17: "Unsupported ops: Erfc"); this form converts to
    ONNX Erf and fuses into TFLite's builtin GELU (tests/layers/test_ws_conv.py), within
    6e-8 of Keras' on [-6, 6].
    """
    return 0.5 * x * (1.0 + keras.ops.erf(x / math.sqrt(2.0)))
