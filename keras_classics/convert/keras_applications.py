"""keras.applications weight files (ResNet50/101/152, VGG16/19 .h5) -> keras_classics models.

keras.applications' ResNet is the paper's Caffe release: stride in the first 1x1 of a
bottleneck (our downsample_at="1x1"), a bias on every conv, BN epsilon 1.001e-5, caffe
preprocessing (BGR, mean pixel subtracted). Our ResNet has no conv biases and epsilon 1e-5;
both differences fold exactly into the BN that follows each conv, at inference:

  BN(conv(x) + b) with mean m:  the same as BN(conv(x)) with mean m - b;
  (x - m) / sqrt(v + 1.001e-5):  the same as (x - m) / sqrt(v' + 1e-5), v' = v + 1e-8.

In training BN normalises with batch statistics, where a constant bias cancels, so the plain
builder loses nothing and needs no conv-bias option. Layer names are keras.applications' own
(ResNet) or its blockN_convM/fc1/fc2 (VGG).
"""

import re

import keras
import numpy as np

from keras_classics.convert.core import Conversion, Take, convert, find, table
from keras_classics.models.resnet import BN as RESNET_BN

SOURCE = "keras.applications"
KERAS_APPLICATIONS_BN_EPSILON = 1.001e-5
_VGG_CONV = re.compile(r"conv(\d)_(\d)")
_VGG_DENSE = {"fc6": "fc1", "fc7": "fc2", "predictions": "predictions"}


def _variables(layer, source_layer):
    return tuple(Take((f"{source_layer}/{variable.name}",)) for variable in layer.weights)


def fold_conv_bias(mean, bias):
    return (np.float64(mean) - bias).astype(np.float32)


def fold_epsilon(variance):
    shift = KERAS_APPLICATIONS_BN_EPSILON - RESNET_BN["epsilon"]
    return (np.float64(variance) + shift).astype(np.float32)


def resnet_plan(model):
    """Same layer names; each BN takes its conv's bias into its mean, and the epsilon shift."""
    plan = {}
    for layer in model.layers:
        if not layer.weights:
            continue
        if isinstance(layer, keras.layers.BatchNormalization):
            conv = layer.name[:-len("_bn")] + "_conv"
            bn = layer.name
            plan[bn] = (Take((f"{bn}/gamma",)), Take((f"{bn}/beta",)),
                        Take((f"{bn}/moving_mean", f"{conv}/bias"), fold_conv_bias),
                        Take((f"{bn}/moving_variance",), fold_epsilon))
        else:
            plan[layer.name] = _variables(layer, layer.name)
    return plan


def vgg_plan(model):
    """Our conv{s}_{j}, fc6, fc7 are keras.applications' block{s}_conv{j}, fc1, fc2."""
    plan = {}
    for layer in model.layers:
        match = _VGG_CONV.fullmatch(layer.name)
        source = (f"block{match[1]}_conv{match[2]}" if match
                  else _VGG_DENSE.get(layer.name))
        if layer.weights and source:
            plan[layer.name] = _variables(layer, source)
    return plan


def _row(name, model, plan, head, **builder_kwargs):
    return Conversion(source=SOURCE, name=name, model=model, plan=plan, preprocessing="caffe",
                      builder_kwargs=builder_kwargs, head=head)


ROWS = table(
    *(_row(f"ResNet{depth}", f"resnet{depth}", resnet_plan, ("predictions/",),
           downsample_at="1x1") for depth in (50, 101, 152)),
    *(_row(f"VGG{depth}", f"vgg{depth}", vgg_plan, ("fc1/", "fc2/", "predictions/"))
      for depth in (16, 19)),
)


def from_keras_applications(name, checkpoint, **builder_kwargs):
    """Our model of keras.applications' `name` with the weights of `checkpoint` loaded.

    Args:
      name: the keras.applications builder name ("ResNet50", "VGG16" ...).
      checkpoint: a .h5 weights file (the published *_weights_tf_dim_ordering_tf_kernels*.h5,
        or model.save_weights / model.save of a keras.applications model), a keras.Model
        built by keras.applications, or a mapping "layer/variable" -> array.
      **builder_kwargs: builder options (include_top, classes, classifier_activation ...).
    Returns:
      the keras.Model, taking caffe-preprocessed NHWC input (`preprocess_input(x, "caffe")`:
      BGR, ImageNet mean pixel subtracted), as keras.applications' own.
    """
    return convert(find(ROWS, SOURCE, name), checkpoint, **builder_kwargs)
