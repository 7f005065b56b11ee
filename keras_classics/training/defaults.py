"""What a run uses, per dataset, for the settings its command leaves unset.

The source holds them (keras_classics/data/sources/: SourceDefaults.run, e.g. the bundled
Fashion-MNIST's short run); the input side (image size, evaluation crop) is the data
library's, reported in DatasetInfo. A dataset without run defaults gets the paper's recipe
with its epochs and batch.
"""

import dataclasses
from typing import Optional

from keras_classics.data import source_defaults


@dataclasses.dataclass(frozen=True)
class RunDefaults:
    recipe: str = "paper"
    epochs: Optional[int] = None  # None: the recipe's
    batch_size: Optional[int] = None  # None: the recipe's
    augmentation: Optional[str] = None  # None: the data library's for the model and source
    # The recipe's BatchNorm momentum (recipes.Recipe.bn_momentum); None: the model's own.
    bn_momentum: Optional[float] = None

    def pieces(self):
        """{Recipe field: value} this dataset's runs set in every recipe."""
        return {} if self.bn_momentum is None else {"bn_momentum": self.bn_momentum}


def for_dataset(dataset):
    """The RunDefaults of a --dataset value."""
    return RunDefaults(**source_defaults(dataset).run)
