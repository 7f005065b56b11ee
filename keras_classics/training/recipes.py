"""Training recipes: which one a run takes (`recipe_for`) and its numbers for the run (`resolve`).

The papers' recipes are records in their family modules (keras_classics/models/, a Recipe of
keras_classics/records/recipe.py on each ModelSpec); the recipes shared by every model
("modern", "rsb_a3", and fine-tuning's rule) are here. Learning rates are given for
`batch_size` images and scale linearly with the global batch (Goyal et al. 2017), with a linear
warm-up when the global batch is larger than the paper's. When a run is shorter than the
paper's (`--epochs`), epoch-based milestones shrink in proportion, so a 3-epoch run still sees
the schedule's shape.
"""

import dataclasses
import inspect
import json
from typing import Optional

from keras_classics.records import registry
from keras_classics.records.recipe import Recipe

RECIPE_KINDS = ("paper", "modern", "rsb_a3", "finetune")
LOSSES = ("categorical", "binary")
# The datasets of small images (28x28 Fashion-MNIST, like CIFAR's 32x32) on which a model
# whose paper has a small-image recipe (ModelSpec.small_image_recipe) trains with that one.
SMALL_IMAGE_DATASETS = ("fashion_mnist",)


# "modern": one recipe for every model (Goyal et al. 2017; He et al. 2019 "Bag of Tricks"):
# SGD 0.9, LR 0.1 per 256 with 5 warm-up epochs, cosine decay, label smoothing 0.1,
# weight decay 5e-5 not on BN parameters and biases.
MODERN = Recipe(
    "Goyal et al. 2017; He et al. 2019 (Bag of Tricks)",
    "sgd",
    0.1,
    256,
    90,
    "cosine",
    5e-5,
    decay_norm_and_bias=False,
    label_smoothing=0.1,
    warmup_epochs=5,
)

# "finetune" (--weights' default): the model's paper recipe (its optimizer, batch, weight
# decay, clipping) at a tenth of its rate, with cosine decay to zero and no warm-up, for
# FINETUNE_EPOCHS. Kornblith et al. 2019 ("Do Better ImageNet Models Transfer Better?",
# section 3 and appendix A.3) fine-tune with SGD, Nesterov momentum 0.9 and cosine decay,
# their best rates well below the from-scratch ones; torchvision's transfer-learning tutorial
# fine-tunes ResNet-18 at 0.001 with momentum 0.9. The tenth and the epochs are this project's
# choice (a pretrained body needs a short run, not the paper's 90 to 250 epochs).
FINETUNE_RATE_FACTOR = 0.1
FINETUNE_EPOCHS = 10


def finetune_recipe(recipe):
    """`recipe` (a paper's) as the fine-tuning recipe: a tenth of its rate, cosine, fewer epochs."""
    return dataclasses.replace(
        recipe,
        source=f"{recipe.source}; fine-tuning: Kornblith et al. 2019 (cosine, lower rate)",
        learning_rate=recipe.learning_rate * FINETUNE_RATE_FACTOR,
        epochs=FINETUNE_EPOCHS,
        schedule="cosine",
        milestones=(),
        warmup_epochs=0.0,
    )


# "rsb_a3": Wightman, Touvron & Jegou 2021, "ResNet strikes back", Table 1, procedure A3 (timm):
# LAMB, LR 8e-3 at batch 2048, cosine, 5 warm-up epochs, weight decay 0.02 (timm leaves BN
# parameters and biases undecayed), 100 epochs, RandAugment rand-m6-mstd0.5 (N 2, M 6), MixUp
# 0.1, CutMix 1.0 (switch 0.5), binary cross-entropy, no label smoothing, no EMA, no erasing.
# Not reproduced here: training at 160 px and testing at 224 px with crop 0.95 (a run has one
# image size, --image_size), RandAugment's magnitude noise mstd 0.5 and its operations' scales
# (Keras' layer draws each strength from [0, M / 10]: randaugment.py), timm's BCE target
# threshold, and mixed precision (--mixed_precision).
RSB_A3 = Recipe(
    "Wightman et al. 2021 (ResNet strikes back), Table 1, A3",
    "lamb",
    8e-3,
    2048,
    100,
    "cosine",
    0.02,
    decay_norm_and_bias=False,
    warmup_epochs=5,
    randaugment=(2, 6),
    mixup=0.1,
    cutmix=1.0,
    loss="binary",
)

# The builder option that a recipe's stochastic_depth sets (timm's name, drop_path_rate): the
# families with stochastic depth (Huang et al. 2016) give their builders this option, whose
# default is their paper's rate; the training program passes the recipe's value (0: off).
STOCHASTIC_DEPTH_OPTION = "drop_path_rate"


def has_stochastic_depth(spec):
    return STOCHASTIC_DEPTH_OPTION in inspect.signature(spec.builder).parameters


def check_rate(rate, name):
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate < 1:
        raise ValueError(f"{name}={rate!r} is invalid; accepted: a drop rate in [0, 1).")


def check_stochastic_depth(spec, rate, name="stochastic_depth"):
    check_rate(rate, name)
    if rate and not has_stochastic_depth(spec):
        families = dict.fromkeys(
            s.family
            for s in map(registry.get_spec, registry.list_models())
            if has_stochastic_depth(s)
        )
        raise ValueError(
            f"{name}={rate!r} is invalid for {spec.name}: the {spec.family} family has no "
            f"stochastic depth; accepted: 0 (families with it: "
            f"{', '.join(families) or 'none'})."
        )


def recipe_for(spec, kind="paper", dataset="imagenet"):
    """The recipe of `spec`: its paper's ImageNet one, or its small-image one (if the paper
    has one) on the small-image datasets (SMALL_IMAGE_DATASETS)."""
    if kind not in RECIPE_KINDS:
        raise ValueError(f"recipe={kind!r} is invalid; accepted: {RECIPE_KINDS}.")
    if kind == "modern":
        return MODERN
    if kind == "rsb_a3":
        return RSB_A3
    if kind == "finetune":
        return finetune_recipe(recipe_for(spec, "paper", dataset))
    if dataset in SMALL_IMAGE_DATASETS and spec.small_image_recipe is not None:
        return spec.small_image_recipe
    if spec.recipe is None:
        raise ValueError(
            f"recipe={kind!r} is invalid for {spec.name}: its family module gives no paper "
            "recipe (ModelSpec.recipe); accepted: 'modern' or 'rsb_a3'."
        )
    return spec.recipe


PIECES = (
    "randaugment",
    "mixup",
    "cutmix",
    "mix_prob",
    "mix_switch_prob",
    "random_erasing",
    "ema_decay",
    "stochastic_depth",
    "agc_clip",
    "bn_momentum",
    "loss",
)


@dataclasses.dataclass(frozen=True)
class Resolved:
    """A recipe in the numbers of one run; saved as recipe.json in the model_dir."""

    model: str
    kind: str
    source: str
    optimizer: str
    global_batch_size: int
    epochs: int
    steps_per_epoch: int
    base_learning_rate: float  # after linear scaling with the global batch
    schedule: str
    boundaries_steps: tuple  # "steps": where the LR drops / 10
    decay_steps: int  # "exponential": steps per decay
    decay_rate: float
    warmup_steps: int
    plateau_patience: int
    weight_decay: float
    decay_norm_and_bias: bool
    momentum: float
    nesterov: bool
    label_smoothing: float
    clip_norm: Optional[float]
    rmsprop_rho: float
    rmsprop_epsilon: float
    aux_loss_weights: tuple
    randaugment: Optional[tuple]
    mixup: float
    cutmix: float
    mix_prob: float
    mix_switch_prob: float
    random_erasing: float
    ema_decay: Optional[float]
    stochastic_depth: float
    bn_momentum: Optional[float]  # None: the model's own BatchNormalization momentum
    loss: str
    agc_clip: Optional[float]  # adaptive gradient clipping's lambda (agc.py); None: off

    def to_json(self):
        return json.dumps(dataclasses.asdict(self), indent=2, sort_keys=True)


def resolve(
    spec,
    *,
    kind="paper",
    dataset="imagenet",
    global_batch_size=None,
    epochs=None,
    steps_per_epoch,
    learning_rate=None,
    weight_decay=None,
    label_smoothing=None,
    recipe=None,
):
    """The recipe of `spec` on `dataset` for a run of `epochs` x `steps_per_epoch` at
    `global_batch_size`; `recipe` in place of recipe_for's (the flags' overrides, plan.py)."""
    recipe = recipe or recipe_for(spec, kind, dataset)
    check_stochastic_depth(spec, recipe.stochastic_depth)
    batch = global_batch_size or recipe.batch_size
    epochs = epochs or recipe.epochs
    for arg, value in (
        ("global_batch_size", batch),
        ("epochs", epochs),
        ("steps_per_epoch", steps_per_epoch),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{arg}={value!r} is invalid; accepted: an integer >= 1.")
    stretch = epochs / recipe.epochs
    lr = (
        learning_rate
        if learning_rate is not None
        else (recipe.learning_rate * batch / recipe.batch_size)
    )
    # Goyal et al.: warm up large-batch runs over 5 epochs (shrunk with short runs).
    warmup = recipe.warmup_epochs or (5.0 if batch > recipe.batch_size else 0.0)
    return Resolved(
        model=spec.name,
        kind=kind,
        source=recipe.source,
        optimizer=recipe.optimizer,
        global_batch_size=batch,
        epochs=epochs,
        steps_per_epoch=steps_per_epoch,
        base_learning_rate=lr,
        schedule=recipe.schedule,
        boundaries_steps=tuple(round(m * stretch * steps_per_epoch) for m in recipe.milestones),
        decay_steps=max(1, round(recipe.decay_epochs * steps_per_epoch)),
        decay_rate=recipe.decay_rate,
        warmup_steps=round(min(warmup * stretch, epochs) * steps_per_epoch),
        plateau_patience=recipe.plateau_patience,
        weight_decay=recipe.weight_decay if weight_decay is None else weight_decay,
        decay_norm_and_bias=recipe.decay_norm_and_bias,
        momentum=recipe.momentum,
        nesterov=recipe.nesterov,
        label_smoothing=(recipe.label_smoothing if label_smoothing is None else label_smoothing),
        clip_norm=recipe.clip_norm,
        rmsprop_rho=recipe.rmsprop_rho,
        rmsprop_epsilon=recipe.rmsprop_epsilon,
        aux_loss_weights=tuple(spec.aux_loss_weights),
        **{f: getattr(recipe, f) for f in PIECES},
    )
