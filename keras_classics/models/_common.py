"""What every family builder shares: argument checks, the Input, the top, weights, public builders.

Every builder runs the keras.applications order: check arguments, make the Input, body, top or
pooling, Functional model, weights. A family module supplies only its body and top.
"""

import inspect
import os
import warnings

import keras

from keras_classics.registry import ModelSpec, register_model

POOLINGS = (None, "avg", "max")

# The keras.applications signature every public builder starts with, in order.
STANDARD_ARGS = {
    "include_top": True,
    "weights": None,
    "input_tensor": None,
    "input_shape": None,
    "pooling": None,
    "classes": 1000,
    "classifier_activation": "softmax",
    "name": None,
}


def check_args(*, include_top, weights, pooling, classes):
    if not isinstance(include_top, bool):
        raise ValueError(f"include_top={include_top!r} is invalid; accepted: True or False.")
    if pooling not in POOLINGS:
        raise ValueError(f"pooling={pooling!r} is invalid; accepted: {POOLINGS}.")
    if isinstance(classes, bool) or not isinstance(classes, int) or classes < 1:
        raise ValueError(f"classes={classes!r} is invalid; accepted: an integer >= 1.")
    if weights == "imagenet":
        raise ValueError(
            "weights='imagenet' is not available: keras_classics hosts no weight files. "
            "Accepted: None (random initialisation) or the path to a weights file of this "
            "architecture, such as one written by `python -m keras_classics.convert` from a "
            "torchvision, timm or keras.applications checkpoint, or by train/main.py.")
    if weights is not None and not isinstance(weights, (str, os.PathLike)):
        raise ValueError(f"weights={weights!r} is invalid; accepted: None or a path to a "
                         "weights file.")
    if weights is not None and not os.path.isfile(weights):
        raise ValueError(f"weights={str(weights)!r} does not exist; accepted: None or the "
                         "path to an existing weights file.")


def make_input(*, input_tensor, input_shape, include_top, default_size, min_size):
    """The model's Input: from input_tensor, input_shape, or the paper's size."""
    if keras.config.image_data_format() != "channels_last":
        raise ValueError(f"image_data_format={keras.config.image_data_format()!r} is not "
                         "supported; accepted: 'channels_last'.")
    if input_tensor is not None:
        if not keras.backend.is_keras_tensor(input_tensor):
            input_tensor = keras.Input(tensor=input_tensor)
        input_shape = tuple(input_tensor.shape[1:])
    elif input_shape is None:
        size = default_size if include_top else None
        input_shape = (size, size, 3)
    _check_input_shape(tuple(input_shape) if isinstance(input_shape, (list, tuple))
                       else input_shape, min_size)
    return input_tensor if input_tensor is not None else keras.Input(tuple(input_shape))


def _check_input_shape(input_shape, min_size):
    if not isinstance(input_shape, tuple) or len(input_shape) != 3:
        raise ValueError(f"input_shape={input_shape!r} is invalid; accepted: "
                         "(height, width, channels), channels last.")
    *spatial, channels = input_shape
    if not isinstance(channels, int) or channels < 1:
        raise ValueError(f"input_shape={input_shape!r} has channels={channels!r}; "
                         "accepted: a positive integer number of channels (3 for RGB).")
    for size in spatial:
        if size is not None and (not isinstance(size, int) or size < min_size):
            raise ValueError(f"input_shape={input_shape!r} is too small; this model "
                             f"accepts height and width >= {min_size} (or None).")


def pooled_or_top(x, *, include_top, pooling, top):
    """The model's head: `top(x)` with include_top, else the requested global pooling."""
    if include_top:
        return top(x)
    if pooling == "avg":
        return keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
    if pooling == "max":
        return keras.layers.GlobalMaxPooling2D(name="max_pool")(x)
    return x


def check_grid(x, *, grid, default_size, input_shape):
    """A Flatten + Dense top is built for one final grid: refuse any other input size."""
    if tuple(x.shape[1:3]) != (grid, grid):
        raise ValueError(
            f"input_shape={input_shape!r} gives a {x.shape[1]}x{x.shape[2]} final feature "
            f"map, but include_top=True needs the paper's {grid}x{grid} (fully connected "
            f"head); accepted: input_shape=({default_size}, {default_size}, C), or "
            "include_top=False with any size at or above the minimum.")


def classifier(x, *, classes, classifier_activation, name="predictions"):
    return keras.layers.Dense(classes, activation=classifier_activation, name=name)(x)


def finish(inputs, outputs, *, name, weights):
    """Functional model over `inputs` (Input or source of input_tensor), then weights."""
    model = keras.Model(keras.utils.get_source_inputs(inputs), outputs, name=name)
    if weights is not None:
        load_weights(model, weights)
    return model


def load_weights(model, weights):
    """Loads a weights file; anything that does not fit the architecture is a ValueError.

    Keras only warns when it skips parts of a file; such a half-loaded model is refused
    too (the builder then returns nothing). A full-model file may load into the same
    architecture with include_top=False: its classifier is simply not used.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            model.load_weights(weights)
        except (ValueError, KeyError, TypeError, OSError) as err:
            raise ValueError(f"weights={str(weights)!r} does not fit architecture "
                             f"{model.name!r}: {err}") from err
    skipped = [str(w.message) for w in caught if "Skipping" in str(w.message)
               or "could not be loaded" in str(w.message)]
    if skipped:
        raise ValueError(f"weights={str(weights)!r} does not fit architecture "
                         f"{model.name!r}: {skipped[0]}")


def make_builder(builder_name, family_fn, doc, default_name, **fixed):
    """A public builder with the keras.applications signature plus the family's options.

    `family_fn` takes the standard arguments and its own keyword-only options; `fixed` are
    the table row values of this model (its depths, widths ...).
    """
    family_params = inspect.signature(family_fn).parameters
    options = [p for n, p in family_params.items()
               if n not in STANDARD_ARGS and n not in fixed]

    def builder(include_top=True, weights=None, input_tensor=None, input_shape=None,
                pooling=None, classes=1000, classifier_activation="softmax", name=None,
                **kwargs):
        unknown = sorted(set(kwargs) - {p.name for p in options})
        if unknown:
            raise TypeError(f"{builder_name}() got unexpected keyword arguments {unknown}; "
                            f"accepted options: {[p.name for p in options]}.")
        return family_fn(include_top=include_top, weights=weights, input_tensor=input_tensor,
                         input_shape=input_shape, pooling=pooling, classes=classes,
                         classifier_activation=classifier_activation,
                         name=name or default_name, **fixed, **kwargs)

    standard = [inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=d)
                for n, d in STANDARD_ARGS.items()]
    builder.__signature__ = inspect.Signature(
        standard + [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in options])
    builder.__name__ = builder.__qualname__ = builder_name
    builder.__doc__ = doc
    return builder


def register(name, builder_name, family_fn, doc, spec_fields, **fixed):
    """Makes the public builder of one table row and registers it; returns the builder."""
    builder = make_builder(builder_name, family_fn, doc, name, **fixed)
    register_model(ModelSpec(name=name, builder=builder, **spec_fields))
    return builder


# Auxiliary classifiers (GoogLeNet, Inception-v3): one mechanism. With aux_logits=True the
# builder returns the training model, outputs [main, aux1, ...], each aux output named by its
# classifier layer ("aux1_predictions"); the spec's aux_loss_weights give their loss weights
# in the same order. `inference_model` drops them for evaluation and export.

def check_aux(*, aux_logits, include_top):
    if not isinstance(aux_logits, bool):
        raise ValueError(f"aux_logits={aux_logits!r} is invalid; accepted: True or False.")
    if aux_logits and not include_top:
        raise ValueError("aux_logits=True needs include_top=True (the auxiliary heads are "
                         "classifiers); accepted: aux_logits=False with include_top=False.")


def with_aux(main, aux_outputs):
    """The model's outputs: `main` alone, or [main, *aux_outputs] for the training model."""
    return [main, *aux_outputs] if aux_outputs else main


def inference_model(model):
    """`model` without its auxiliary outputs: the same layer objects, so the same weights.

    For a model built with aux_logits=True returns keras.Model(inputs, main output) under the
    same name; training either model trains both. Any other model is returned unchanged.
    """
    if not isinstance(model, keras.Model):
        raise TypeError(f"model={model!r} is invalid; accepted: a keras.Model.")
    if len(model.outputs) == 1:
        return model
    return keras.Model(model.inputs, model.outputs[0], name=model.name)
