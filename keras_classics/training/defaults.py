"""What a run uses, per dataset, for the settings its command leaves unset.

The input side (image size, evaluation crop) is the data library's: get_dataset picks it for
each source and reports it in DatasetInfo, and the run reads it from there. What is here is the
training side: on the bundled Fashion-MNIST a short run that finishes in minutes on a CPU
(README, the default run); on every other dataset the paper's recipe with its epochs and batch.
"""

import dataclasses
from typing import Optional


@dataclasses.dataclass(frozen=True)
class RunDefaults:
    recipe: str = "paper"
    epochs: Optional[int] = None  # None: the recipe's
    batch_size: Optional[int] = None  # None: the recipe's
    augmentation: Optional[str] = None  # None: the data library's for the model and source


# Fashion-MNIST (keras_classics/data/sources/fashion_mnist.py):
# - The modern recipe: a 3-epoch run needs its warm-up and its decay to zero; the papers' step
#   schedules leave the network underfitted after so few epochs (README, the default run).
# - No augmentation: in so short a run the CIFAR pad-and-crop + flip (the data library's
#   Fashion-MNIST default, "pad_crop") costs accuracy; with more --epochs,
#   --augmentation pad_crop gives the paper's.
BUNDLED = RunDefaults(recipe="modern", epochs=3, batch_size=128, augmentation="none")
_BY_DATASET = {"fashion_mnist": BUNDLED}


def for_dataset(dataset):
    """The RunDefaults of a --dataset value."""
    return _BY_DATASET.get(dataset, RunDefaults())
