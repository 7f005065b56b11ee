"""Model registry: one spec per architecture name, read by the CLI, the tests, training and export.

Adding a model is one table row in its family module: `Family.register` (the builder core,
keras_classics/models/_core.py) makes its builder and registers its spec. This module only
stores: it sits below Keras and imports no family. The registry is full once
keras_classics.models is imported, which the package face does before it answers
`keras_classics.get_model` or `list_models`.
"""

import dataclasses
import difflib
import fnmatch
from collections.abc import Callable
from typing import Optional

from keras_classics.records.input_config import MODES, InputConfig
from keras_classics.records.recipe import Recipe


@dataclasses.dataclass(frozen=True)
class ReplicaCheck:
    """How keras_classics/training/equivalence.py compares N replicas with one device on this
    model, its family's representative there (the family module says why these settings).

    Attributes:
      image_size: the input side it trains at in the check.
      include_top: False: the body under a pooled head (a fixed-head model below its size).
      dtype: "float64" where float32's rounding makes the runs part whatever the strategy.
      builder_options: builder options of the compared model, as (name, value) pairs.
      steps: training steps compared (fewer where rounding differences grow chaotically
        from step to step even in float64; the family module gives the measured growth).
      pending: its runs part even in float64, not yet explained (docs/roadmap.md): not yet
        shown equivalent, so not compared by the tests.
    """

    image_size: int
    include_top: bool = True
    dtype: str = "float64"
    builder_options: tuple = ()
    steps: int = 5
    pending: bool = False


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    """What the rest of the package needs to know about one architecture.

    Attributes:
      name: snake-case registry name (`resnext50_32x4d`), shared by CLI, tests and export.
      builder: the public builder, keras.applications signature (`ResNeXt50`).
      family: family name ("resnet", "vgg", ...), used by training recipes.
      input: how the model's input is prepared (InputConfig: preprocessing mode, the paper's
        input size, eval crop ratio, interpolation); the data pipeline, training and the
        export read it.
      min_size: smallest height/width the body accepts (include_top=False).
      paper: short citation of the paper and table the builder follows.
      fixed_head: the top is Flatten + Dense, so include_top=True needs the paper's final grid.
      aux_loss_weights: loss weight of each auxiliary output, in output order (Inception).
      builder_kwargs: keyword options the builder is called with for this name.
      classes: the builder's default classes: its paper's dataset's (1000, ImageNet; 10 for the
        CIFAR nets).
      augmentation: the name of its paper's training augmentation (a registered Augmentation
        record of keras_classics/records/augmentation.py, which its family module gives), or
        None where the family names none (training it then needs an explicit one).
      recipe: its paper's training recipe (a Recipe record), or None where the family names
        none (training it then needs --recipe modern or rsb_a3).
      small_image_recipe: its paper's recipe for small images (CIFAR), which it trains with
        on the small-image datasets (keras_classics/training/recipes.py), or None.
      replica_check: a ReplicaCheck on the model its family module picks for the replica
        equivalence check, None on the others.
    """

    name: str
    builder: Callable
    family: str
    input: InputConfig
    min_size: int
    paper: str
    fixed_head: bool = False
    aux_loss_weights: tuple = ()
    builder_kwargs: dict = dataclasses.field(default_factory=dict)
    classes: int = 1000
    augmentation: Optional[str] = None
    recipe: Optional[Recipe] = None
    small_image_recipe: Optional[Recipe] = None
    replica_check: Optional[ReplicaCheck] = None

    def build(self, **kwargs):
        """Calls the builder with this spec's options, overridden by `kwargs`."""
        return self.builder(**{**self.builder_kwargs, **kwargs})


_REGISTRY: dict = {}


def register_model(spec: ModelSpec) -> ModelSpec:
    """Adds `spec` under `spec.name`; a second registration of a name is an error."""
    if spec.name in _REGISTRY:
        raise ValueError(
            f"Model name {spec.name!r} is already registered "
            f"(by {_REGISTRY[spec.name].builder.__name__})."
        )
    _REGISTRY[spec.name] = spec
    return spec


def list_models(pattern: Optional[str] = None, *, family: Optional[str] = None) -> list:
    """Registered model names, in registration order.

    Args:
      pattern: None for all; a family name ("resnet", as the first argument always took),
        or names with wildcards as timm's list_models takes them ("resnet*", "*_bn").
      family: only this family's models.
    """
    names = [
        n
        for n, s in _REGISTRY.items()
        if (pattern is None or s.family == pattern or fnmatch.fnmatchcase(n, pattern))
        and (family is None or s.family == family)
    ]
    return names


def get_spec(name: str) -> ModelSpec:
    """The ModelSpec of `name`; an unknown name raises ValueError with close matches."""
    if not isinstance(name, str) or name not in _REGISTRY:
        close = difflib.get_close_matches(str(name), list(_REGISTRY), n=3, cutoff=0.5)
        hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
        raise ValueError(f"Unknown model name={name!r}.{hint} Accepted: {', '.join(_REGISTRY)}.")
    return _REGISTRY[name]


def get_model(name: str, **kwargs):
    """Builds registered model `name`; kwargs go to its builder (weights=None by default)."""
    return get_spec(name).build(**kwargs)


def resolve_mode(mode):
    """A mode name, or a registry model name standing for its spec's mode."""
    if mode in MODES:
        return mode
    if mode in list_models():
        return get_spec(mode).input.mode
    raise ValueError(
        f"mode={mode!r} is invalid; accepted: {tuple(MODES)} or a registered "
        "model name (its spec's mode)."
    )
