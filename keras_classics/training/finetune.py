"""Fine-tuning: a pretrained body with a new head, frozen layers, a lower rate for the body.

What the training program's fine-tuning flags do (docs/finetuning.md):
- `--weights` goes to the builder (a weight card's name or a weights file, loaded by layer name:
  keras_classics/pretrained/loading.py): the body loads, a classifier of another shape stays
  random; the run's model is the builder's model behind the uint8 input and InputNormalization,
  which have no weights of their own, so a train/main.py best.weights.h5 loads as any file.
- `--freeze VALUE` sets trainable=False on a layer and on every layer it depends on (the graph
  walked back from it to the input): `backbone` = every layer but the head (the classifier
  "...predictions" and the auxiliary heads "aux...", the layers a weights file of other classes
  leaves random: loading._is_new_head), which for the fully connected heads of AlexNet and VGG
  includes fc6 and fc7; a feature level P1 ... P5 (keras_classics.feature_info: a stage's
  output, e.g. ResNet's P3 = conv3_block2_out for ResNet-18) = that stage and all before it;
  any layer name of the model (ResNet's conv3_block4_out, Inception-v3's mixed_6e) = that layer
  and all before it. A frozen BatchNormalization runs in inference mode in Keras 3 (its moving
  statistics stay what the weights file holds), as torchvision's FrozenBatchNorm2d.
- `--body_lr_multiplier M`: every trainable variable of the body (all but the head, as above)
  learns at M x the schedule's rate: PyTorch's parameter groups, in one Keras optimizer (Keras 3
  optimizers have one learning rate) by PerVariableRates below.
"""

import os
import types

import keras
from keras import ops

from keras_classics import pretrained
from keras_classics.data import sources
from keras_classics.models.features import feature_info
from keras_classics.weights.loading import _is_new_head

BACKBONE = "backbone"


def head_layers(model):
    """The names of `model`'s head layers: its classifiers and auxiliary heads."""
    return [layer.name for layer in model.layers if _is_new_head(layer.name)]


def accepted_freeze(model):
    """The accepted --freeze values of `model`, in words (for messages and docs/finetuning.md)."""
    levels = ", ".join(f"{f.name} ({f.layer})" for f in feature_info(model))
    heads = ", ".join(head_layers(model))
    return f"{BACKBONE!r} (all but {heads}), a level {levels}, or a layer name"


def _ancestors(model, layer):
    """`layer` and every layer of `model` whose output it depends on, in no order."""
    found, stack = {}, [layer]
    while stack:
        current = stack.pop()
        if current.name in found:
            continue
        found[current.name] = current
        for node in current._inbound_nodes:
            stack += [t._keras_history.operation for t in node.input_tensors]
    names = {layer.name for layer in model.layers}
    return [layer for name, layer in found.items() if name in names]


def layers_to_freeze(model, value, flag="freeze"):
    """The layers --freeze `value` freezes (module docstring), in the model's order."""
    if value == BACKBONE:
        heads = set(head_layers(model))
        return [layer for layer in model.layers if layer.name not in heads]
    levels = {f.name: f.layer for f in feature_info(model)}
    name = levels.get(value, value)
    names = {layer.name for layer in model.layers}
    if not isinstance(value, str) or name not in names or name in head_layers(model):
        raise ValueError(
            f"{flag}={value!r} is invalid for {model.name}; accepted: {accepted_freeze(model)} "
            f"of the model but its head."
        )
    frozen = {layer.name for layer in _ancestors(model, model.get_layer(name))}
    return [layer for layer in model.layers if layer.name in frozen]


def freeze(model, value):
    """Sets trainable=False on the layers of --freeze `value`; returns their names."""
    layers = layers_to_freeze(model, value)
    for layer in layers:
        layer.trainable = False
    return [layer.name for layer in layers]


def body_rate_multipliers(model, multiplier):
    """{variable path: multiplier} for the trainable variables of `model`'s body (all but the
    head), the optimizer's rate_multipliers."""
    heads = set(head_layers(model))
    return {
        v.path: float(multiplier)
        for layer in model.layers
        if layer.name not in heads
        for v in layer.trainable_weights
    }


class PerVariableRates:
    """A Keras optimizer whose variables each learn at `rate_multipliers[variable.path]` x the
    learning rate (1 for the others), as PyTorch's parameter groups.

    Exact for every Keras optimizer whose update_step is linear in its learning_rate argument,
    which SGD (with or without momentum, Nesterov) and RMSprop (the recipes' two) are, and so
    are Adam and AdamW: the rate is a factor of each update, and of the momentum it accumulates,
    so one step of a variable at M x the rate moves it M x as far (tested), and a run at a
    constant M is the run of a variable-wise rate, not a rescaled gradient (which Adam's and
    RMSprop's normalisation by the gradient's magnitude would undo). Decoupled weight decay
    (Keras' `weight_decay`: w -= lr x decay x w) is scaled too, as a parameter group's rate
    scales it. Gradient clipping (global_clipnorm) acts on the gradients, before any rate.
    """

    rate_multipliers = {}

    def build(self, variables):
        super().build(variables)
        self._factors = [float(self.rate_multipliers.get(v.path, 1.0)) for v in variables]

    def _factor(self, variable):
        return self._factors[self._get_variable_index(variable)]

    def update_step(self, gradient, variable, learning_rate):
        factor = self._factor(variable)
        if factor != 1.0:
            # In the variable's dtype, as update_step computes (a float32 product would
            # round differently from the weight decay's lr x (decay x M)).
            learning_rate = ops.cast(learning_rate, variable.dtype) * factor
        super().update_step(gradient, variable, learning_rate)

    def _apply_weight_decay(self, variables):
        # Keras decays every variable at the base rate (lr x weight_decay) before the updates;
        # lr x (weight_decay x M) is the decay at M x the rate. weight_decay is read while the
        # step is traced, so each group is traced with its own.
        groups = {}
        for v in variables:
            groups.setdefault(self._factor(v), []).append(v)
        base = self.weight_decay
        try:
            for factor, group in groups.items():
                self.weight_decay = None if base is None else base * factor
                super()._apply_weight_decay(group)
        finally:
            self.weight_decay = base

    def get_config(self):
        return {**super().get_config(), "rate_multipliers": dict(self.rate_multipliers)}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        rates = config.pop("rate_multipliers", {})
        optimizer = super().from_config(config, custom_objects=custom_objects)
        optimizer.rate_multipliers = rates
        return optimizer


def _rated(base):
    cls = type(base.__name__, (PerVariableRates, base), {"__doc__": PerVariableRates.__doc__})
    return keras.saving.register_keras_serializable(package="keras_classics")(cls)


# The recipes' optimizers (optim.make_optimizer) with per-variable rates.
RATED = types.SimpleNamespace(
    SGD=_rated(keras.optimizers.SGD),
    RMSprop=_rated(keras.optimizers.RMSprop),
    Lamb=_rated(keras.optimizers.Lamb),  # its update is lr x trust ratio x Adam's: linear too
)


def check_config(cfg, spec):
    """The refusals of the fine-tuning flags that need the model's spec, the file system or
    another group (config.check_config; config.FinetuneConfig checks its own values)."""

    weights, classes, dataset = cfg.finetune.weights, cfg.finetune.classes, cfg.data.dataset
    if weights is not None:
        if cfg.eval_only:
            raise ValueError(
                f"weights={weights!r} with eval_only=True conflict; accepted: --checkpoint "
                "FILE for --eval_only, --weights to train from."
            )
        if pretrained.is_card_name(weights):
            pretrained.resolve(spec.name, weights)  # an unknown card is refused now
        elif not os.path.isfile(weights):
            raise ValueError(
                f"weights={weights!r} is neither a weight card nor a file; accepted: "
                f"imagenet, a card of {spec.name} (keras-classics weights list {spec.name}) or "
                "an existing weights file."
            )
    if classes is not None and dataset not in sources.CLASS_SUBSET_SOURCES:
        raise ValueError(
            f"classes={classes!r} is not supported for dataset={dataset!r}; "
            f"accepted: --classes with {', '.join(sources.CLASS_SUBSET_SOURCES)}."
        )


def prepare(model, settings):
    """Freezes the layers of settings.freeze (a config.FinetuneConfig), printing how many;
    returns the optimizer's rate_multipliers of settings.body_lr_multiplier, or None."""
    if settings.freeze is not None:
        frozen = freeze(model, settings.freeze)
        print(
            f"frozen: {len(frozen)} layers, {frozen[0]} ... {frozen[-1]} "
            f"(--freeze {settings.freeze})",
            flush=True,
        )
    if settings.body_lr_multiplier is None:
        return None
    return body_rate_multipliers(model, settings.body_lr_multiplier)


def parse_classes(value, flag="classes"):
    """--classes "5,6,7" -> (5, 6, 7); None -> None (the ranges are the source's check)."""
    if value is None:
        return None
    try:
        classes = tuple(int(c) for c in value.split(","))
    except ValueError:
        classes = ()
    if not classes or len(set(classes)) != len(classes) or min(classes) < 0:
        raise ValueError(
            f"{flag}={value!r} is invalid; accepted: distinct 0-based class indices, "
            "comma-separated (e.g. 5,6,7,8,9)."
        )
    return classes
