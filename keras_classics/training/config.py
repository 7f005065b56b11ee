"""RunConfig, the settings of one training run, and the checks that need no TensorFlow devices.

Each field carries its command-line help (and its accepted values, where they are a list) in
its metadata: keras_classics/training/cli.py makes one flag per field from them.
"""

import dataclasses
import importlib
import os
from typing import Optional

import keras_classics
import keras_classics.data
import keras_classics.data.erasing
import keras_classics.data.mixing
from keras_classics.data import service
from keras_classics.training import defaults, distribute, finetune, recipes

SOURCES = ("fashion_mnist", "imagenet", "folder")


def _field(default, help_text, choices=None):
    return dataclasses.field(default=default, metadata={"help": help_text, "choices": choices})


@dataclasses.dataclass
class RunConfig:
    model: str = dataclasses.field(
        metadata={"help": "Registry name of the model.", "choices": keras_classics.list_models}
    )
    dataset: str = _field(
        "fashion_mnist",
        f"One of {SOURCES} or tfds:NAME (imagenet = TFRecord shards in "
        "--data_dir, folder = class sub-folders in --data_dir).",
    )
    data_dir: Optional[str] = _field(None, "Directory of the dataset (imagenet, folder, tfds).")
    model_dir: Optional[str] = _field(None, "Checkpoints, logs, results. Default: runs/<model>.")
    epochs: Optional[int] = _field(None, "Epochs (default: the recipe's; 3 on fashion_mnist).")
    batch_size: Optional[int] = _field(
        None,
        "Global batch size, split across replicas (default: the recipe's; 128 on fashion_mnist).",
    )
    image_size: Optional[int] = _field(
        None,
        "Square input size (default: the model's; on fashion_mnist 32 or the model's minimum).",
    )
    augmentation: Optional[str] = _field(
        None,
        "Training augmentation: inception, inception_color, vgg, resnet, alexnet, "
        "pad_crop, none (default: the family's paper's; none on fashion_mnist).",
    )
    recipe: Optional[str] = _field(
        None,
        "paper: the model's paper recipe (the default); modern: cosine, warm-up, label "
        "smoothing (the default on fashion_mnist, whose 3-epoch run needs them); rsb_a3: "
        "ResNet strikes back's A3 (LAMB, RandAugment, MixUp/CutMix, BCE); finetune: the "
        "paper's at a tenth of its rate, cosine, fewer epochs (the default with --weights).",
        choices=recipes.RECIPE_KINDS,
    )
    learning_rate: Optional[float] = _field(
        None, "Base learning rate override (after batch scaling)."
    )
    weight_decay: Optional[float] = _field(None, "Weight decay override.")
    # The modern training pieces: each overrides the recipe's field of the same name
    # (recipes.Recipe; --ema: ema_decay); unset, the recipe's (off but in --recipe rsb_a3).
    randaugment: Optional[str] = _field(
        None,
        "RandAugment 'N,M': N operations per image at magnitude M of 10 (Keras' layer, in the "
        "tf.data pipeline after the augmentation); 'none': off.",
    )
    mixup: Optional[float] = _field(None, "MixUp of each batch: Beta alpha (0: off).")
    cutmix: Optional[float] = _field(None, "CutMix of each batch: Beta alpha (0: off).")
    mix_prob: Optional[float] = _field(
        None, "With --mixup or --cutmix: the probability of mixing a batch (default 1)."
    )
    mix_switch_prob: Optional[float] = _field(
        None,
        "With --mixup and --cutmix: the probability that a mixed batch is CutMix's, else "
        "MixUp's (timm's switch probability; default 0.5).",
    )
    random_erasing: Optional[float] = _field(
        None, "Random erasing: the probability of erasing a box of each image (0: off)."
    )
    ema: Optional[float] = _field(
        None,
        "EMA of the weights, decay per step (e.g. 0.9998): validation, results, the weights "
        "files and the export use the EMA weights; 0: off.",
    )
    stochastic_depth: Optional[float] = _field(
        None, "Stochastic depth drop rate: no family here has it yet (refused above 0)."
    )
    mixed_precision: bool = _field(
        False,
        "Mixed precision: mixed_float16 on GPUs, mixed_bfloat16 on CPUs with AVX512_BF16 or "
        "AMX (refused on other CPUs); the classifier and BatchNorm statistics stay float32.",
    )
    jit_compile: bool = _field(False, "XLA-compile the training step.")
    sync_batchnorm: bool = _field(
        False, "BatchNorm statistics over the global batch, across replicas."
    )
    strategy: str = _field(
        "auto",
        "auto: multi_worker with a TF_CONFIG cluster, mirrored on GPUs, else one device.",
        choices=distribute.STRATEGIES,
    )
    num_gpus: Optional[int] = _field(None, "Use only the first N visible GPUs.")
    steps_per_epoch: Optional[int] = _field(None, "Steps per epoch (default: one pass).")
    max_steps: Optional[int] = _field(None, "Stop after this many steps in all (smoke runs).")
    validation_steps: Optional[int] = _field(None, "Validation batches (default: the whole split).")
    seed: int = _field(0, "Random seed: weights, data order, augmentation.")
    deterministic: bool = _field(False, "Deterministic ops and data (slower).")
    skip_errors: bool = _field(False, "Drop unreadable records, counted per epoch.")
    label_offset: Optional[int] = _field(
        None, "Subtracted from TFRecord labels (1 for the 1-based ImageNet build scripts)."
    )
    data_service: Optional[str] = _field(
        None,
        "grpc://HOST:PORT of a tf.data service dispatcher: the training input pipeline runs on "
        "its workers (docs/data_service.md); evaluation stays in this process.",
    )
    data_service_policy: Optional[str] = _field(
        None,
        "With --data_service: dynamic (the default: each example to one worker, in no fixed "
        "order) or off (each worker the whole epoch: with ONE worker the local pipeline's "
        "batches in order, as --deterministic needs).",
        choices=service.POLICIES,
    )
    export: bool = _field(False, "Export the trained model for TF Serving afterwards.")
    eval_only: bool = _field(False, "Only evaluate --checkpoint on the validation split.")
    checkpoint: Optional[str] = _field(None, "Weights file to evaluate with --eval_only.")
    # Fine-tuning (keras_classics/training/finetune.py; README, Fine-tuning).
    weights: Optional[str] = _field(
        None,
        "Start from these weights, as the builders' weights= takes them: imagenet, a weight "
        "card SOURCE:TAG (keras-classics weights list) or a weights file (a run's "
        "best.weights.h5); a classifier of other classes is replaced by a new one.",
    )
    freeze: Optional[str] = _field(
        None,
        "Freeze (trainable=False; BatchNorm statistics too) a layer and every layer before it: "
        "backbone (all but the classifier), a feature level P1..P5 (the stage outputs of "
        "keras_classics.feature_info) or a layer name of the model.",
    )
    body_lr_multiplier: Optional[float] = _field(
        None,
        "The body's (all but the classifier's) learning rate is this times the schedule's "
        "(e.g. 0.1); the classifier's is the schedule's.",
    )
    classes: Optional[str] = _field(
        None,
        "Only these classes, comma-separated 0-based indices (fashion_mnist, folder), "
        "relabelled 0..k-1 in the order given, in the training and the evaluation split.",
    )


def recipe_kind(cfg):
    """--recipe, or "finetune" with --weights, or the dataset's default (the bundled one:
    "modern"), or "paper"."""
    return cfg.recipe or ("finetune" if cfg.weights else defaults.for_dataset(cfg.dataset).recipe)


# Training-piece flag -> the Recipe field it overrides.
PIECE_FLAGS = {
    "randaugment": "randaugment",
    "mixup": "mixup",
    "cutmix": "cutmix",
    "mix_prob": "mix_prob",
    "mix_switch_prob": "mix_switch_prob",
    "random_erasing": "random_erasing",
    "ema": "ema_decay",
    "stochastic_depth": "stochastic_depth",
}


def parse_randaugment(text):
    """'N,M' -> (N, M); 'none' -> None."""
    if text.strip().lower() == "none":
        return None
    try:
        n, m = text.split(",")
        value = (int(n), float(m))
    except ValueError:
        value = None
    if value is None or value[0] < 1 or not 0 <= value[1] <= 10:
        raise ValueError(
            f"randaugment={text!r} is invalid; accepted: 'N,M' with N >= 1 operations per "
            "image and magnitude 0 <= M <= 10 (e.g. '2,9'), or 'none'."
        )
    return value


def run_recipe(cfg, spec):
    """The run's recipe: --recipe's for the model and dataset, with the training-piece flags
    (PIECE_FLAGS) in place of its values."""
    recipe = recipes.recipe_for(spec, recipe_kind(cfg), cfg.dataset)
    overrides = {}
    for flag, field in PIECE_FLAGS.items():
        value = getattr(cfg, flag)
        if value is None:
            continue
        if flag == "randaugment":
            value = parse_randaugment(value)
        elif flag == "ema":
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
                raise ValueError(
                    f"ema={value!r} is invalid; accepted: a decay in (0, 1), or 0 (off)."
                )
            value = value or None
        overrides[field] = value
    recipe = dataclasses.replace(recipe, **overrides)
    keras_classics.data.mixing.Mixing(
        recipe.mixup, recipe.cutmix, recipe.mix_prob, recipe.mix_switch_prob
    )
    keras_classics.data.erasing.check_probability(recipe.random_erasing, "random_erasing")
    recipes.check_stochastic_depth(spec, recipe.stochastic_depth)
    return recipe


def model_dir_of(cfg):
    return cfg.model_dir or os.path.join("runs", cfg.model)


# Integer fields and the smallest value each accepts.
_INTEGERS = {
    "epochs": 1,
    "batch_size": 1,
    "image_size": 1,
    "steps_per_epoch": 1,
    "max_steps": 1,
    "validation_steps": 1,
    "num_gpus": 0,
}


def check_config(cfg):
    """Every refusal that does not need TensorFlow devices; returns the model's spec."""
    spec = keras_classics.get_spec(cfg.model)
    if cfg.dataset not in SOURCES and not cfg.dataset.startswith("tfds:"):
        raise ValueError(f"dataset={cfg.dataset!r} is invalid; accepted: {SOURCES} or 'tfds:NAME'.")
    if cfg.dataset in ("imagenet", "folder"):
        if not cfg.data_dir or not os.path.isdir(cfg.data_dir):
            raise ValueError(
                f"data_dir={cfg.data_dir!r} is not a directory; dataset "
                f"{cfg.dataset!r} needs the directory that holds it."
            )
    for arg, low in _INTEGERS.items():
        value = getattr(cfg, arg)
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or value < low
        ):
            what = "a positive integer" if low else "an integer >= 0"
            raise ValueError(f"{arg}={value!r} is invalid; accepted: {what}.")
    if cfg.image_size is not None:
        check_image_size(cfg.image_size, spec)
    if cfg.eval_only != bool(cfg.checkpoint):
        raise ValueError(
            f"eval_only={cfg.eval_only} with checkpoint={cfg.checkpoint!r} "
            "conflict; accepted: --eval_only together with --checkpoint PATH."
        )
    if cfg.checkpoint and not os.path.isfile(cfg.checkpoint):
        raise ValueError(f"checkpoint={cfg.checkpoint!r} does not exist.")
    if cfg.eval_only and cfg.export:
        raise ValueError("--eval_only and --export conflict; accepted: one of them.")
    if cfg.learning_rate is not None and not cfg.learning_rate > 0:
        raise ValueError(f"learning_rate={cfg.learning_rate} is invalid; accepted: > 0.")
    if cfg.weight_decay is not None and not cfg.weight_decay >= 0:
        raise ValueError(f"weight_decay={cfg.weight_decay} is invalid; accepted: >= 0.")
    run_recipe(cfg, spec)
    finetune.check_config(cfg, spec)
    if cfg.augmentation is not None:
        keras_classics.data.train_preprocessing.check_augmentation(cfg.augmentation)
    if cfg.data_service is not None:
        check_data_service(cfg)
    elif cfg.data_service_policy is not None:
        raise ValueError(
            f"data_service_policy={cfg.data_service_policy!r} without data_service; accepted: "
            "--data_service_policy together with --data_service grpc://HOST:PORT."
        )
    if cfg.export:
        try:
            importlib.import_module("keras_classics.export")
        except ImportError as err:
            raise ValueError(
                f"--export needs keras_classics.export, which is not available here ({err})."
            ) from err
    return spec


def check_data_service(cfg):
    """--data_service and the settings it cannot serve (keras_classics/data/service.py)."""
    service.check_address(cfg.data_service, "data_service")
    policy = cfg.data_service_policy or service.DEFAULT_POLICY
    service.check_policy(policy, "data_service_policy")
    if cfg.eval_only:
        raise ValueError(
            f"eval_only=True with data_service={cfg.data_service!r} conflict: evaluation runs "
            "in this process; accepted: one of them."
        )
    if cfg.skip_errors:
        # The counters behind DatasetInfo.skipped() are tf.Variables of this process; the
        # workers drop the bad records but count them where the trainer never reads
        # (tests/data/test_service.py measures skipped() staying empty).
        raise ValueError(
            f"skip_errors=True with data_service={cfg.data_service!r} conflict: the records "
            "skipped on the service's workers would not be counted; accepted: one of them "
            "(keras_classics.data.find_bad_records names the bad records beforehand)."
        )
    if cfg.deterministic and policy != "off":
        raise ValueError(
            f"deterministic=True with data_service_policy={policy!r} conflict: its workers "
            "deliver the batches in an order that depends on timing; accepted: "
            "--data_service_policy off with one worker, or no --deterministic."
        )
    if cfg.strategy == "multi_worker" or (cfg.strategy == "auto" and distribute.cluster_size() > 1):
        # Each trainer would open its own jobs (a whole epoch each), and Keras would shard
        # the received batches again: not tested, so refused.
        raise ValueError(
            f"data_service={cfg.data_service!r} with MultiWorkerMirroredStrategy is not "
            "supported; accepted: --data_service with one trainer process (one device or "
            "mirrored)."
        )


def check_image_size(size, spec):
    """A fixed (Flatten + Dense) head takes exactly its paper's size; other models any size
    from their minimum."""
    if spec.fixed_head and size != spec.input.size:
        raise ValueError(
            f"image_size={size} is invalid for {spec.name}; accepted: exactly "
            f"{spec.input.size} (its fully connected head is built for that "
            "size)."
        )
    if size < spec.min_size:
        raise ValueError(
            f"image_size={size} is invalid for {spec.name}; accepted: >= {spec.min_size}."
        )
