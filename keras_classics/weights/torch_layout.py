"""PyTorch parameter layouts (torchvision, timm) -> Keras variables, by layer kind.

A torch source's plan needs only a name map, our layer name -> torch module prefix
("conv2_block1_1_conv" -> "layer1.0.conv1"); the layer's kind then says which parameters it
reads and how they are laid out:

  Conv2d.weight (out, in/groups, kh, kw)  -> kernel (kh, kw, in/groups, out)
  Linear.weight (out, in)                  -> kernel (in, out); after a Flatten of a (h, w, c)
                                              map the input axis is reordered from torch's
                                              NCHW flatten (c, h, w) to NHWC (h, w, c)
  BatchNorm2d weight, bias, running_mean, running_var -> gamma, beta, moving_mean,
                                              moving_variance (torchvision and timm both use
                                              eps 1e-5, our builders' value)
  ScaledStdConv2D (timm's ScaledStdConv2d(Same)): Conv2d's, plus gain (out, 1, 1, 1) -> (out,)
  SqueezeExcite from two modules, "fc1" and "fc2" under the prefix (torchvision's
  SqueezeExcitation, timm's SEModule and legacy SENet) or a (reduce, expand) pair of
  prefixes: each 1x1 Conv2d (out, in, 1, 1) or Linear (out, in) weight -> a (in, out) matrix
"""

import keras
import numpy as np

from keras_classics.layers.squeeze_excite import SqueezeExcite
from keras_classics.layers.ws_conv import ScaledStdConv2D
from keras_classics.records.input_config import InputConfig
from keras_classics.weights.conversion import Conversion, Take

ELEMENTWISE = (keras.layers.Dropout, keras.layers.ReLU, keras.layers.Activation)
# Keys of a torch state dict that hold no weights.
IGNORED = (".num_batches_tracked",)
# torchvision's ImageClassification eval transform: bilinear resize to 256, centre crop 224,
# ImageNet mean/std (its weights' default; a row or card states where it differs).
TORCHVISION_224 = InputConfig("torch", 224)


def conv_kernel(weight):
    return np.transpose(weight, (2, 3, 1, 0))


def dense_kernel(weight):
    return np.transpose(weight)


def flattened_dense_kernel(grid):
    """Linear weight over torch's (c, h, w) flatten -> Dense kernel over Keras' (h, w, c)."""
    height, width, channels = grid

    def fn(weight):
        units = weight.shape[0]
        weight = weight.reshape(units, channels, height, width)
        return np.transpose(weight, (2, 3, 1, 0)).reshape(height * width * channels, units)

    return fn


def pointwise_matrix(weight):
    """A 1x1 Conv2d (out, in, 1, 1) or Linear (out, in) weight -> the (in, out) matrix."""
    return np.transpose(weight.reshape(weight.shape[:2]))


def squeeze_excite_takes(reduce_prefix, expand_prefix):
    """The Takes of a SqueezeExcite layer from its two torch modules."""
    return tuple(
        Take((f"{prefix}.{name}",), pointwise_matrix if name == "weight" else None)
        for prefix in (reduce_prefix, expand_prefix)
        for name in ("weight", "bias")
    )


def takes(layer, prefix):
    """The Takes of one Keras layer from the torch module at `prefix` (for a SqueezeExcite,
    also a (reduce, expand) pair of module prefixes)."""
    if isinstance(layer, SqueezeExcite):
        pair = (f"{prefix}.fc1", f"{prefix}.fc2") if isinstance(prefix, str) else prefix
        return squeeze_excite_takes(*pair)
    if isinstance(layer, keras.layers.BatchNormalization):
        return tuple(
            Take((f"{prefix}.{p}",)) for p in ("weight", "bias", "running_mean", "running_var")
        )
    if isinstance(layer, keras.layers.Conv2D):
        kernel = Take((f"{prefix}.weight",), conv_kernel)
    elif isinstance(layer, keras.layers.Dense):
        grid = _flattened_grid(layer)
        kernel = Take((f"{prefix}.weight",), flattened_dense_kernel(grid) if grid else dense_kernel)
    else:
        raise TypeError(
            f"Layer {layer.name!r} ({type(layer).__name__}) has no torch "
            "layout; accepted: Conv2D, Dense, BatchNormalization, SqueezeExcite."
        )
    bias = (Take((f"{prefix}.bias",)),) if layer.use_bias else ()
    gain = (Take((f"{prefix}.gain",), _vector),) if isinstance(layer, ScaledStdConv2D) else ()
    return (kernel, *bias, *gain)


def _vector(weight):
    return weight.reshape(-1)


def _flattened_grid(layer):
    """(h, w, c) when `layer`'s input is a Flatten of a feature map, else None.

    Element-wise layers in between (torchvision AlexNet's dropout before fc6) keep the order.
    """
    source = layer.input._keras_history.operation
    while isinstance(source, ELEMENTWISE):
        source = source.input._keras_history.operation
    if isinstance(source, keras.layers.Flatten) and len(source.input.shape) == 4:
        return tuple(source.input.shape[1:])
    return None


def plan(module_names):
    """A Conversion plan from `module_names(model) -> {our layer name: torch module prefix}`."""

    def plan_fn(model):
        names = module_names(model)
        return {
            layer.name: takes(layer, names[layer.name])
            for layer in model.layers
            if layer.weights and layer.name in names
        }

    return plan_fn


def sequential_names(classifier_indices):
    """Names of a torchvision `features` + `classifier` Sequential net (AlexNet, VGG).

    Our Conv2D, BatchNormalization, ReLU and MaxPooling2D layers before the Flatten are, in
    order, the modules of torch's `features`; our Dense layers are the `classifier` modules at
    `classifier_indices` (Dropout and ReLU sit between them there).
    """
    counted = (
        keras.layers.Conv2D,
        keras.layers.BatchNormalization,
        keras.layers.ReLU,
        keras.layers.MaxPooling2D,
    )

    def names(model):
        found, index, dense = {}, 0, iter(classifier_indices)
        for layer in model.layers:
            if isinstance(layer, keras.layers.Dense):
                found[layer.name] = f"classifier.{next(dense, 'extra')}"
            elif isinstance(layer, counted):
                if layer.weights:
                    found[layer.name] = f"features.{index}"
                index += 1
        return found

    return names


def row(source, name, model, plan, head, *, input, aux=(), **builder_kwargs):  # noqa: A002
    """A `Conversion` row of a torch source (its state dicts count num_batches_tracked):
    torchvision's or timm's model `name` as our registry model `model` with `builder_kwargs`,
    `head` and `aux` the key prefixes of its classifier and auxiliary classifiers."""
    return Conversion(
        source=source,
        name=name,
        model=model,
        plan=plan,
        input=input,
        builder_kwargs=builder_kwargs,
        head=head,
        aux=aux,
        ignored=IGNORED,
    )
