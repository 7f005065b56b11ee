"""RunPlan: every number of a run, computed once from its config, model spec and dataset.

run.py computes the plan, prints it, and then only executes it: nothing later decides a batch
size, an epoch count or a step count.
"""

import dataclasses
import math
from typing import Optional

from keras_classics.training import defaults, recipes
from keras_classics.training.config import recipe_kind, run_recipe

# The settings that make two runs the same run: a model_dir holding another is refused.
IDENTITY_KEYS = ("model", "dataset", "recipe", "image_size", "global_batch_size")


@dataclasses.dataclass(frozen=True)
class RunPlan:
    model: str
    dataset: str
    recipe: str  # a recipes.RECIPE_KINDS
    global_batch_size: int
    image_size: int
    augmentation: Optional[str]
    epochs: int
    steps_per_epoch: int
    total_steps: int  # the last epoch is shorter under --max_steps
    use_aux: bool  # the auxiliary heads train with their loss weights
    resolved: recipes.Resolved

    def steps_in(self, epoch):
        """Training steps of 0-based `epoch`."""
        return min(self.steps_per_epoch, self.total_steps - epoch * self.steps_per_epoch)

    def identity(self):
        return {k: getattr(self, k) for k in IDENTITY_KEYS}


def global_batch_size(cfg, spec):
    """--batch_size, or the dataset's default run's, or the recipe's."""
    dataset = cfg.data.dataset
    recipe = recipes.recipe_for(spec, recipe_kind(cfg), dataset)
    return cfg.overrides.batch_size or defaults.for_dataset(dataset).batch_size or recipe.batch_size


def requested_image_size(cfg, spec):
    """--image_size; else a fixed head's only size; else None: the data library's choice for
    the model and source (DatasetInfo.image_size)."""
    return cfg.data.image_size or (spec.input.size if spec.fixed_head else None)


def make_plan(cfg, spec, info, replicas):
    """The plan of `cfg` for `spec` on the dataset `info` describes (get_dataset's DatasetInfo
    of the training split), with `replicas` replicas in sync."""
    batch = global_batch_size(cfg, spec)
    if batch % replicas:
        raise ValueError(
            f"batch_size={batch} is not divisible by the {replicas} replicas; "
            "accepted: a multiple of the replica count (it is the global batch, "
            "split evenly across replicas)."
        )
    kind = recipe_kind(cfg)
    recipe = run_recipe(cfg, spec)
    dataset, overrides, runtime = cfg.data.dataset, cfg.overrides, cfg.runtime
    epochs = overrides.epochs or defaults.for_dataset(dataset).epochs or recipe.epochs
    steps = runtime.steps_per_epoch or max(1, (info.num_examples or 0) // batch)
    total = epochs * steps
    if runtime.max_steps:
        total = min(total, runtime.max_steps)
        epochs = math.ceil(total / steps)
    resolved = recipes.resolve(
        spec,
        kind=kind,
        dataset=dataset,
        global_batch_size=batch,
        epochs=epochs,
        steps_per_epoch=steps,
        learning_rate=overrides.learning_rate,
        weight_decay=overrides.weight_decay,
        recipe=recipe,
    )
    return RunPlan(
        model=spec.name,
        dataset=dataset,
        recipe=kind,
        global_batch_size=batch,
        image_size=info.image_size,
        augmentation=info.augmentation,
        epochs=epochs,
        steps_per_epoch=steps,
        total_steps=total,
        # The auxiliary heads (GoogLeNet, Inception-v3) are built for the paper's input size;
        # smaller images (the bundled dataset) train the main head alone.
        use_aux=bool(spec.aux_loss_weights) and info.image_size >= spec.input.size,
        resolved=resolved,
    )
