"""A paper's training recipe as a record (no Keras): each family module holds its paper's.

The family modules (keras_classics/models/) give their Family a Recipe, and a model that
trains otherwise its own (`Family.register(..., recipe=)`); ModelSpec carries both to
keras_classics/training/recipes.py, which scales one to the numbers of a run (`resolve`).
Learning rates are given for `batch_size` images.
"""

import dataclasses
from typing import Optional


@dataclasses.dataclass(frozen=True)
class Recipe:
    source: str
    optimizer: str  # "sgd", "rmsprop" or "lamb"
    learning_rate: float  # for `batch_size` images
    batch_size: int
    epochs: int
    schedule: str  # "plateau", "steps", "exponential", "cosine", "linear"
    weight_decay: float
    momentum: float = 0.9
    nesterov: bool = False  # "sgd": Nesterov's momentum (DenseNet, IGC's release)
    milestones: tuple = ()  # epochs where "steps" divides the LR by 10
    decay_rate: float = 0.1  # "exponential": factor per decay_epochs
    decay_epochs: float = 1.0
    plateau_patience: int = 3  # "plateau": epochs without val top-1 gain before LR / 10
    decay_norm_and_bias: bool = True
    label_smoothing: float = 0.0
    clip_norm: Optional[float] = None
    rmsprop_rho: float = 0.9
    rmsprop_epsilon: float = 1.0
    warmup_epochs: float = 0.0
    # Modern training pieces, off in the papers' recipes; flags of the same names override
    # them (config.py). Where each runs: keras_classics/data/ (randaugment.py, erasing.py,
    # mixing.py), optim.py (loss, EMA).
    randaugment: Optional[tuple] = None  # (N operations, magnitude M of 10)
    mixup: float = 0.0  # Beta alpha; 0: off
    cutmix: float = 0.0  # Beta alpha; 0: off
    mix_prob: float = 1.0  # probability of mixing a batch
    mix_switch_prob: float = 0.5  # CutMix's share of the mixed batches when both are on
    random_erasing: float = 0.0  # probability per image
    ema_decay: Optional[float] = None  # EMA of the weights; None: off
    # Stochastic depth's rate, the builders' drop_path_rate (training/recipes.py); 0: off.
    stochastic_depth: float = 0.0
    # Every BatchNormalization's moving-average momentum in Keras' convention (the old
    # average's weight: torch's 0.1 is 0.9 here); None: the model's own layers'.
    bn_momentum: Optional[float] = None
    loss: str = "categorical"  # "binary": one-vs-all BCE on the (mixed) targets
    # Adaptive gradient clipping's lambda (Brock et al. 2021, section 4.1; the NFNets' 0.01 at
    # batch 4096), unit-wise on every weight but the classifier's, applied to the gradient
    # summed over the replicas (keras_classics/training/agc.py); None: off.
    agc_clip: Optional[float] = None
