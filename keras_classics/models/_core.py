"""The builder core: what every family's builders share, written once.

A family module holds its paper's tables, its option checks and its body; `Family.register`
turns one table row into a public builder with the keras.applications signature and a
registry entry. The core owns, for every family, the standard arguments and their checks,
the Input (its sizes read once, from the row's `Architecture`), the head and the auxiliary
heads (data: `Head` and `AuxHead`, keras_classics/models/_heads.py), the weights and the
model's name, in the keras.applications order: check arguments, make the Input, body, head
or pooling, Functional model, weights.

A family supplies:
  configure(row, **options) -> Architecture: checks the family's options and resolves the
    row: the config its body reads, the default and minimum input size, the head.
  body(x, config) -> {endpoint name: tensor}: the network up to its final feature map, its
    stages' (or modules') outputs in order; the last one feeds the head, and auxiliary heads
    attach to endpoints by name.
"""

import dataclasses
import inspect
import os
import textwrap
from collections.abc import Callable
from typing import Any, Optional

import keras

from keras_classics.models import features
from keras_classics.models._heads import Head, apply_head
from keras_classics.records.augmentation import Augmentation, register_augmentation
from keras_classics.records.input_config import InputConfig
from keras_classics.records.recipe import Recipe
from keras_classics.records.registry import ModelSpec, register_model
from keras_classics.weights import cache, cards, loading

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

# Their documentation, one template for every builder ({size}, {min_size}, {name} filled in).
STANDARD_ARGS_DOC = """\
Args:
  include_top: True (default) for the classifier head; False for the body's features.
  weights: None (random initialisation); "imagenet" (the model's default weight card, downloaded
    and converted once, then cached: keras_classics.list_weights("{name}")); a card's
    "SOURCE:TAG" ("torchvision:IMAGENET1K_V1", "timm:<timm name>", "keras.applications"), whose
    builder options are applied; or the path to a weights file of this architecture
    (.weights.h5 or .keras), e.g. written by `python -m keras_classics.convert` or by
    train/main.py. A file that does not fit is a ValueError.
  input_tensor: a Keras tensor (e.g. keras.Input()) to use as the model's input.
  input_shape: (height, width, channels), channels last; default ({size}, {size}, 3) with
    include_top, else (None, None, 3). Height and width must be at least {min_size}.
  pooling: with include_top=False: None (the final 4D feature map), "avg" or "max" (global
    pooling to (batch, channels)).
  classes: classifier outputs (include_top=True), default {classes}.
  classifier_activation: the classifier's activation, "softmax" (default) or None for
    logits (any Keras activation name).
  name: the model's name; default {name!r}."""


# --- a family and its rows ------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Architecture:
    """One table row with the caller's options resolved: what the core builds."""

    config: Any  # what the family's body reads
    default_size: int  # the paper's input side: the Input's without input_shape
    min_size: int  # the smallest side the body accepts
    head: Head
    aux_heads: tuple = ()  # AuxHead, built with aux_logits=True
    classes: int = 1000  # the classifier's outputs without `classes`: the paper's dataset's


@dataclasses.dataclass(frozen=True)
class Option:
    """A family option: keyword-only builder argument after the standard ones."""

    name: str
    default: Any
    doc: str


AUX_LOGITS = Option(
    "aux_logits",
    False,
    "True returns the training model, outputs [predictions, aux1_predictions, ...]; "
    "keras_classics.inference_model(model) drops the auxiliary outputs (same weights).",
)


# Every builder's multi-scale feature options (keras_classics/models/features.py), after the
# family's own.
FEATURES_ONLY = Option(
    "features_only",
    False,
    "True returns the body's feature levels instead of a classifier: a model whose outputs are "
    '{"P1": ..., "P5": ...}, each level k the last stage output at reduction 2**k (keras-hub\'s '
    "pyramid_outputs names, timm's features_only; docs/features.md). include_top, classes and "
    "classifier_activation are not used; pooling must be None. "
    "keras_classics.feature_info(model) gives each level's channels and reduction.",
)
OUT_INDICES = Option(
    "out_indices",
    None,
    "With features_only=True: the levels to return, as timm's out_indices: positions in "
    "feature_info(model) of the full model (negative from the end), e.g. (1, 2, 3, 4) for "
    "P2 ... P5 of a ResNet; None for all. Layers after the deepest chosen level are left out.",
)
FEATURE_OPTIONS = (FEATURES_ONLY, OUT_INDICES)


@dataclasses.dataclass(frozen=True)
class Family:
    """One family: its body and option checks; `register` makes the builder of a row.

    Attributes:
      name: the registry family ("resnet", "inception" ...), read by training recipes.
      paper: the citation of the paper and table the family follows.
      configure: (row, **options) -> Architecture, raising ValueError for a bad option.
      body: (x, config) -> {endpoint name: tensor}, in order; the last feeds the head.
      options: the family's Options, in signature order (aux_logits is added by the core
        for rows with auxiliary heads).
      mode: the preprocess_input mode the family's networks take (InputConfig.mode).
      describe: row -> the summary that opens a row's docstring, when `register` is given
        none.
      augmentation: the paper's training augmentation, an Augmentation record
        (keras_classics/records/augmentation.py), registered under its name, which
        ModelSpec.augmentation gives.
      recipe: the paper's training recipe (a Recipe record, ModelSpec.recipe); a row that
        trains otherwise gives its own to `register`.
      small_image_recipe: the paper's recipe for small images (CIFAR), if it has one
        (ModelSpec.small_image_recipe).
      module: the module that assigns the public builders, where it is not the body's (a
        family package: models/resnet/), so that `builder.__module__` names it.
    """

    name: str
    paper: str
    configure: Callable
    body: Callable
    options: tuple = ()
    mode: str = "torch"
    describe: Optional[Callable] = None
    augmentation: Optional[Augmentation] = None
    recipe: Optional[Recipe] = None
    small_image_recipe: Optional[Recipe] = None
    module: Optional[str] = None

    def register(self, name, builder_name, row, summary=None, recipe=None, replica_check=None):
        """The public builder of table row `row`, registered as `name`.

        `summary` (default `describe(row)`) opens its docstring: the row's paper table entry
        and what sets it apart; the standard arguments and the family's options follow.
        `recipe` replaces the family's for this row, on every dataset. `replica_check`
        (a ReplicaCheck) makes the row its family's model in the replica equivalence check.
        """
        summary = summary if summary is not None else self.describe(row)
        defaults = {o.name: o.default for o in self.options}
        arch = self.configure(row, **defaults)
        options = self.options + ((AUX_LOGITS,) if arch.aux_heads else ()) + FEATURE_OPTIONS
        builder = _builder(self, row, builder_name, name, options, arch.classes)
        builder.__doc__ = _doc(summary, self.paper, name, arch, options)
        if self.augmentation is not None:
            register_augmentation(self.augmentation)
        register_model(
            ModelSpec(
                name=name,
                builder=builder,
                family=self.name,
                paper=self.paper,
                input=InputConfig(mode=self.mode, size=arch.default_size),
                min_size=arch.min_size,
                fixed_head=arch.head.grid is not None,
                aux_loss_weights=tuple(a.loss_weight for a in arch.aux_heads),
                classes=arch.classes,
                augmentation=self.augmentation and self.augmentation.name,
                recipe=recipe or self.recipe,
                small_image_recipe=None if recipe else self.small_image_recipe,
                replica_check=replica_check,
            )
        )
        return builder


def _doc(summary, paper, name, arch, options):
    lines = [
        inspect.cleandoc(summary),
        "",
        f"Reference: {paper}.",
        "",
        STANDARD_ARGS_DOC.format(
            size=arch.default_size, min_size=arch.min_size, name=name, classes=arch.classes
        ),
    ]
    if options:
        lines += ["", "Options (keyword-only):"]
        lines += [
            textwrap.fill(
                f"{o.name}: {o.doc} Default {o.default!r}.",
                92,
                initial_indent="  ",
                subsequent_indent="    ",
            )
            for o in options
        ]
    lines += ["", "Returns:", "  A keras.Model."]
    return "\n".join(lines)


def _builder(family, row, builder_name, default_name, options, default_classes):
    accepted = [o.name for o in options]
    # The defaults are STANDARD_ARGS' (the row's classes) and the options', read from this one
    # signature: help(), inspect and the stub (keras_classics/stubgen.py) show it, and `builder`
    # binds its arguments against it.
    standard = {**STANDARD_ARGS, "classes": default_classes}
    signature = inspect.Signature(
        [
            inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=d)
            for n, d in standard.items()
        ]
        + [
            inspect.Parameter(o.name, inspect.Parameter.KEYWORD_ONLY, default=o.default)
            for o in options
        ]
    )

    def builder(*args, **kwargs):
        unknown = sorted(set(kwargs) - set(standard) - set(accepted))
        if unknown:
            raise TypeError(
                f"{builder_name}() got unexpected keyword arguments {unknown}; "
                f"accepted options: {accepted}."
            )
        # Only the options passed: a weight card's own options fill in the others.
        passed = signature.bind(*args, **kwargs).arguments
        return build(
            **{n: passed.get(n, d) for n, d in standard.items()},
            kwargs={n: v for n, v in passed.items() if n not in standard},
        )

    def build(
        *,
        include_top,
        weights,
        input_tensor,
        input_shape,
        pooling,
        classes,
        classifier_activation,
        name,
        kwargs,
    ):
        card = None
        if cards.is_card_name(weights):  # "imagenet", "SOURCE" or "SOURCE:TAG"
            # The options passed and the input's rows choose among a group of files
            # (keras.applications' MobileNets: one per alpha, rows and minimalistic).
            card = cards.resolve(default_name, weights, kwargs, _rows(input_shape, input_tensor))
            kwargs = cards.builder_options(card, kwargs)
            weights = None  # loaded by name below
        chosen = {o.name: kwargs.get(o.name, o.default) for o in options}
        aux_logits = chosen.pop(AUX_LOGITS.name, False)
        features_only = chosen.pop(FEATURES_ONLY.name)
        out_indices = chosen.pop(OUT_INDICES.name)
        arch = family.configure(row, **chosen)
        _check_aux(aux_logits, include_top)
        _check_features(features_only, out_indices, pooling, aux_logits)
        include_top = include_top and not features_only
        check_args(include_top=include_top, weights=weights, pooling=pooling, classes=classes)
        inputs = make_input(
            input_tensor=input_tensor,
            input_shape=input_shape,
            include_top=include_top,
            default_size=arch.default_size,
            min_size=arch.min_size,
        )
        # The upstream file is downloaded before the body is built: a download that fails
        # costs no build.
        stored = cache.cached(card) if card is not None else None
        if card is not None and stored is None:
            cache.download_source(card)
        endpoints = family.body(inputs, arch.config)
        x = list(endpoints.values())[-1]
        sources = keras.utils.get_source_inputs(inputs)
        # One Input is passed bare, not as get_source_inputs' list: a model built on [Input]
        # expects a list, and Keras warns on every call with a bare tensor.
        sources = sources[0] if len(sources) == 1 else sources
        if features_only:
            body = keras.Model(sources, x, name=name or default_name)
            model = features.features_model(body, out_indices)
            if card is not None:
                _load_card(model, card, stored, builder, own=False)
            return _finish(model, card, weights, chosen, options, aux_logits)
        head_args = dict(
            classes=classes,
            classifier_activation=classifier_activation,
            default_size=arch.default_size,
            input_shape=input_shape,
        )
        aux = (
            [
                apply_head(
                    a.neck(endpoints[a.after], arch.config, input_shape), a.head, **head_args
                )
                for a in arch.aux_heads
            ]
            if aux_logits
            else []
        )
        if include_top:
            x = apply_head(x, arch.head, **head_args)
        elif pooling == "avg":
            x = keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
        elif pooling == "max":
            x = keras.layers.GlobalMaxPooling2D(name="max_pool")(x)
        model = keras.Model(sources, [x, *aux] if aux else x, name=name or default_name)
        if card is not None:
            # The card's whole network: its head, 3 input channels, the card's options.
            reference = {o.name: card.builder_kwargs.get(o.name, o.default) for o in options}
            own = (
                include_top
                and classes == default_classes
                and not aux_logits
                and model.inputs[0].shape[-1] == 3
                and all(reference[k] == v for k, v in chosen.items())
            )
            _load_card(model, card, stored, builder, own)
        return _finish(model, card, weights, chosen, options, aux_logits)

    builder.__signature__ = signature
    builder.__name__ = builder.__qualname__ = builder_name
    # help() and tracebacks name the family module, where its one assignment stands.
    builder.__module__ = family.module or family.body.__module__
    return builder


def _rows(input_shape, input_tensor):
    """The input's height where it is square and known, else None (the weight card's
    choice of file by input size, as keras.applications' `rows`)."""
    if input_shape is None and input_tensor is not None:
        input_shape = tuple(input_tensor.shape[1:])
    if isinstance(input_shape, (list, tuple)) and len(input_shape) == 3:
        rows, cols, _ = input_shape
        return rows if rows == cols else None
    return None


def _load_card(model, card, stored, builder, own):
    """Loads `card`'s weights into `model` from the cache (`stored`, or None when the cache
    lacks them). On a miss the upstream file is converted into `model` itself when it is the
    card's whole network (`own`), else into one `builder` makes with the card's options, and
    the cache keeps it (weights/cache.py); then `model` loads it by layer name."""
    if stored is None:
        reference = (lambda: model) if own else (lambda: builder(**card.builder_kwargs))
        stored, converted = cache.convert(card, reference)
        if converted is model:
            return
    cache.load(model, card, stored)


def _finish(model, card, weights, chosen, options, aux_logits):
    """Loads a weights file into the built `model` and records what it was built with:
    `model.builder_options` (every family option, resolved) and `model.weights_card` (the
    WeightCard, or None).

    Both are attributes of this Python object, not of the Keras model: `model.save` and
    `keras.models.load_model` drop them (Keras serialises a Functional model's layers and
    graph only). Keeping them inside the file would take a registered Model subclass, which
    every saved model would then need keras_classics to load, or a layer carrying them, which
    would change the architecture's layers; docs/pretrained.md ("What a saved model keeps")
    says how to keep them beside it instead: the model's name, `builder_options` and the card's
    `name` rebuild it with get_model and get_weights."""
    if weights is not None:
        load_weights(model, weights)
    # What the model was built with, for `summary` and users (object.__setattr__: plain
    # records, kept out of Keras' attribute tracking).
    recorded = {**chosen, AUX_LOGITS.name: aux_logits} if AUX_LOGITS in options else chosen
    object.__setattr__(model, "builder_options", recorded)
    object.__setattr__(model, "weights_card", card)
    return model


# --- the standard arguments ----------------------------------------------------------------


def check_args(*, include_top, weights, pooling, classes):
    if not isinstance(include_top, bool):
        raise ValueError(f"include_top={include_top!r} is invalid; accepted: True or False.")
    if pooling not in POOLINGS:
        raise ValueError(f"pooling={pooling!r} is invalid; accepted: {POOLINGS}.")
    if isinstance(classes, bool) or not isinstance(classes, int) or classes < 1:
        raise ValueError(f"classes={classes!r} is invalid; accepted: an integer >= 1.")
    accepted = "None, 'imagenet', a weight card's 'SOURCE:TAG' or the path to a weights file"
    if weights is not None and not isinstance(weights, (str, os.PathLike)):
        raise ValueError(f"weights={weights!r} is invalid; accepted: {accepted}.")
    if weights is not None and not os.path.isfile(weights):
        raise ValueError(
            f"weights={str(weights)!r} does not exist; accepted: {accepted} (an existing file)."
        )


def check_depths(depths, example):
    """A family's `depths` option: one positive integer per stage, as in `example` (the
    blocks each stage repeats), or None, which gives `example` (a row's own depths)."""
    if depths is None:
        return tuple(example)
    if (
        not isinstance(depths, (tuple, list))
        or len(depths) != len(example)
        or any(isinstance(d, bool) or not isinstance(d, int) or d < 1 for d in depths)
    ):
        raise ValueError(
            f"depths={depths!r} is invalid; accepted: None (the table row's) or "
            f"{len(example)} positive integers, the blocks of each stage, e.g. {example!r}."
        )
    return tuple(depths)


def _check_aux(aux_logits, include_top):
    if not isinstance(aux_logits, bool):
        raise ValueError(f"aux_logits={aux_logits!r} is invalid; accepted: True or False.")
    if aux_logits and not include_top:
        raise ValueError(
            "aux_logits=True needs include_top=True (the auxiliary heads are "
            "classifiers); accepted: aux_logits=False with include_top=False."
        )


def _check_features(features_only, out_indices, pooling, aux_logits):
    if not isinstance(features_only, bool):
        raise ValueError(f"features_only={features_only!r} is invalid; accepted: True or False.")
    if not features_only:
        if out_indices is not None:
            raise ValueError(
                f"out_indices={out_indices!r} without features_only=True; accepted: "
                "out_indices together with features_only=True."
            )
        return
    if pooling is not None:
        raise ValueError(
            f"pooling={pooling!r} with features_only=True conflict: the feature levels are "
            "4D maps; accepted: pooling=None."
        )
    if aux_logits:
        raise ValueError(
            "aux_logits=True with features_only=True conflict: the auxiliary heads are "
            "classifiers; accepted: aux_logits=False."
        )


def make_input(*, input_tensor, input_shape, include_top, default_size, min_size):
    """The model's Input: from input_tensor, input_shape, or the paper's size."""
    if keras.config.image_data_format() != "channels_last":
        raise ValueError(
            f"image_data_format={keras.config.image_data_format()!r} is not "
            "supported; accepted: 'channels_last'."
        )
    if input_tensor is not None:
        if not keras.backend.is_keras_tensor(input_tensor):
            input_tensor = keras.Input(tensor=input_tensor)
        input_shape = tuple(input_tensor.shape[1:])
    elif input_shape is None:
        size = default_size if include_top else None
        input_shape = (size, size, 3)
    _check_input_shape(
        tuple(input_shape) if isinstance(input_shape, (list, tuple)) else input_shape, min_size
    )
    return input_tensor if input_tensor is not None else keras.Input(tuple(input_shape))


def _check_input_shape(input_shape, min_size):
    if not isinstance(input_shape, tuple) or len(input_shape) != 3:
        raise ValueError(
            f"input_shape={input_shape!r} is invalid; accepted: "
            "(height, width, channels), channels last."
        )
    *spatial, channels = input_shape
    if not isinstance(channels, int) or channels < 1:
        raise ValueError(
            f"input_shape={input_shape!r} has channels={channels!r}; "
            "accepted: a positive integer number of channels (3 for RGB)."
        )
    for size in spatial:
        if size is not None and (not isinstance(size, int) or size < min_size):
            raise ValueError(
                f"input_shape={input_shape!r} is too small; this model "
                f"accepts height and width >= {min_size} (or None)."
            )


def load_weights(model, weights, new_heads=True):
    """Loads a weights file of this architecture by layer name
    (keras_classics/weights/loading.py): the body must fit; a classifier for other classes
    stays randomly initialised (logged: fine-tuning), a first convolution on other input
    channels is adapted, and a part of the body (include_top=False, features_only=True) loads
    what it has. Anything else that does not fit is a ValueError, raised before the builder
    returns. new_heads=False refuses a classifier that does not fit too (the export)."""
    try:
        stored = loading.stored_layers(weights)
    except (ValueError, KeyError, TypeError, OSError) as err:
        raise ValueError(
            f"weights={str(weights)!r} does not fit architecture {model.name!r}: {err}"
        ) from err
    new = loading.load_layers(model, stored, repr(str(weights)), new_heads)
    if new:
        loading.logger.warning(
            "%s: %s loaded; %s randomly initialised (not in the file, or for other classes).",
            model.name,
            weights,
            ", ".join(new),
        )


def inference_model(model):
    """`model` without its auxiliary outputs: the same layer objects, so the same weights.

    For a model built with aux_logits=True returns keras.Model(inputs, main output) under the
    same name; training either model trains both. Any other model is returned unchanged.
    """
    if not isinstance(model, keras.Model):
        raise TypeError(f"model={model!r} is invalid; accepted: a keras.Model.")
    if len(model.outputs) == 1:
        return model
    inputs = model.inputs[0] if len(model.inputs) == 1 else model.inputs
    return keras.Model(inputs, model.outputs[0], name=model.name)
