"""The classifier heads as data: a family's `Architecture` names its head (`Head`, made of
`GlobalPool`, `Flatten`, `Dropout` and `FC` steps, or `pool_head`/`fc_head`), its auxiliary heads
(`AuxHead`), and keras_classics/models/_core.py builds them with `apply_head`."""

import dataclasses
from collections.abc import Callable
from typing import Optional

import keras


@dataclasses.dataclass(frozen=True)
class GlobalPool:
    """Global average pooling (the papers' final average pool over the whole grid)."""

    name: str


@dataclasses.dataclass(frozen=True)
class Flatten:
    """Flatten for fully connected layers built for one final `grid` (AlexNet, VGG)."""

    name: str
    grid: Optional[int] = None


@dataclasses.dataclass(frozen=True)
class Dropout:
    rate: float
    name: str


@dataclasses.dataclass(frozen=True)
class FC:
    """A fully connected layer with ReLU (or `activation`, a Keras activation name:
    MobileNetV3's hard-swish)."""

    units: int
    name: str
    activation: str = "relu"


@dataclasses.dataclass(frozen=True)
class Head:
    """A classifier head: `steps` (GlobalPool, Flatten, Dropout, FC) then the classifier
    (with a bias unless `classifier_bias` is False: megvii's ShuffleNet v1 release)."""

    steps: tuple
    classifier: str = "predictions"
    classifier_bias: bool = True

    @property
    def grid(self):
        """The final grid a Flatten head needs, or None for a pooling head."""
        return next((s.grid for s in self.steps if isinstance(s, Flatten)), None)


def pool_head(pool="avg_pool", dropout=0.0, classifier_bias=True):
    """Global average pool [+ dropout `{pool}_drop`] + classifier."""
    steps = (GlobalPool(pool),) + ((Dropout(dropout, f"{pool}_drop"),) if dropout else ())
    return Head(steps, classifier_bias=classifier_bias)


def fc_head(grid, units, dropout, names=("fc6", "fc7"), dropout_first=False):
    """Flatten + fully connected ReLU layers `names` with dropout `{name}_drop` after each
    (before each with dropout_first, as torchvision's AlexNet) + classifier."""
    steps = [Flatten("flatten", grid)]
    for name in names:
        pair = [FC(units, name), Dropout(dropout, f"{name}_drop")]
        steps += pair[::-1] if dropout_first else pair
    return Head(tuple(steps))


@dataclasses.dataclass(frozen=True)
class AuxHead:
    """An auxiliary classifier: the family's `neck(x, config)` on endpoint `after`, then
    `head`; `loss_weight` its weight in the training loss (ModelSpec.aux_loss_weights)."""

    after: str
    neck: Callable
    head: Head
    loss_weight: float


def apply_head(x, head, *, classes, classifier_activation, default_size, input_shape):
    for step in head.steps:
        if isinstance(step, GlobalPool):
            x = keras.layers.GlobalAveragePooling2D(name=step.name)(x)
        elif isinstance(step, Flatten):
            if step.grid is not None:
                _check_grid(x, step.grid, default_size, input_shape)
            x = keras.layers.Flatten(name=step.name)(x)
        elif isinstance(step, Dropout):
            x = keras.layers.Dropout(step.rate, name=step.name)(x)
        else:
            x = keras.layers.Dense(step.units, activation=step.activation, name=step.name)(x)
    return keras.layers.Dense(
        classes,
        activation=classifier_activation,
        use_bias=head.classifier_bias,
        name=head.classifier,
        dtype=classifier_dtype(),
    )(x)


def classifier_dtype():
    """The classifier's dtype: float32 under a mixed global policy (float16 or bfloat16
    compute), whose softmax, losses and metrics need float32 (float16 logits break Keras'
    top-k metrics; tensorflow/tensorflow#34406); else None, the global policy's (the graph is
    unchanged)."""
    policy = keras.config.dtype_policy()
    return "float32" if policy.compute_dtype != policy.variable_dtype else None


def _check_grid(x, grid, default_size, input_shape):
    if tuple(x.shape[1:3]) != (grid, grid):
        raise ValueError(
            f"input_shape={input_shape!r} gives a {x.shape[1]}x{x.shape[2]} final feature "
            f"map, but include_top=True needs the paper's {grid}x{grid} (fully connected "
            f"head); accepted: input_shape=({default_size}, {default_size}, C), or "
            "include_top=False with any size at or above the minimum."
        )
