"""RunConfig, the settings of one training run, and the checks that need no TensorFlow devices.

The settings are grouped by concern, each group a frozen dataclass that refuses a bad value as
it is made (a ValueError naming the setting, the value and what is accepted): DataConfig (what
is read and how), RecipeOverrides (the recipe and the values the command sets in it),
RuntimeConfig (devices, distribution, precision, step counts, seed) and FinetuneConfig;
RunConfig holds the model, its files and the four groups, and check_config the refusals that
need the model's spec, the file system or two groups at once.

Each field carries its command-line help (and its accepted values, where they are a list) in
its metadata: keras_classics/training/cli.py makes one flag per field, of the field's name.
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
from keras_classics.training import agc, defaults, distribute, finetune, recipes

SOURCES = ("fashion_mnist", "imagenet", "folder")


def _field(default, help_text, choices=None):
    return dataclasses.field(default=default, metadata={"help": help_text, "choices": choices})


def _check_integers(group, lowest):
    """`lowest`: {field: the smallest value it accepts}; None passes (the default's)."""
    for name, low in lowest.items():
        value = getattr(group, name)
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or value < low
        ):
            what = "a positive integer" if low else "an integer >= 0"
            raise ValueError(f"{name}={value!r} is invalid; accepted: {what}.")


def _check_choice(name, value, choices):
    if value is not None and value not in choices:
        raise ValueError(f"{name}={value!r} is invalid; accepted: {tuple(choices)}.")


@dataclasses.dataclass(frozen=True)
class DataConfig:
    """What the run reads, and how its input pipeline prepares it."""

    dataset: str = _field(
        "fashion_mnist",
        f"One of {SOURCES} or tfds:NAME (imagenet = TFRecord shards in "
        "--data_dir, folder = class sub-folders in --data_dir).",
    )
    data_dir: Optional[str] = _field(None, "Directory of the dataset (imagenet, folder, tfds).")
    image_size: Optional[int] = _field(
        None,
        "Square input size (default: the model's; on fashion_mnist 32 or the model's minimum).",
    )
    augmentation: Optional[str] = _field(
        None,
        "Training augmentation: a name the family modules register (docs/data.md lists "
        "them) or none (default: the family's paper's; none on fashion_mnist).",
    )
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

    def __post_init__(self):
        if self.dataset not in SOURCES and not str(self.dataset).startswith("tfds:"):
            raise ValueError(
                f"dataset={self.dataset!r} is invalid; accepted: {SOURCES} or 'tfds:NAME'."
            )
        _check_integers(self, {"image_size": 1})
        if self.augmentation is not None:
            keras_classics.data.train_preprocessing.check_augmentation(self.augmentation)
        if self.data_service is not None:
            service.check_address(self.data_service, "data_service")
            service.check_policy(
                self.data_service_policy or service.DEFAULT_POLICY, "data_service_policy"
            )
        elif self.data_service_policy is not None:
            raise ValueError(
                f"data_service_policy={self.data_service_policy!r} without data_service; "
                "accepted: --data_service_policy together with --data_service grpc://HOST:PORT."
            )


@dataclasses.dataclass(frozen=True)
class RecipeOverrides:
    """Which recipe (recipes.py), and the values of it that the command sets itself."""

    recipe: Optional[str] = _field(
        None,
        "paper: the model's paper recipe (the default); modern: cosine, warm-up, label "
        "smoothing (the default on fashion_mnist, whose 3-epoch run needs them); rsb_a3: "
        "ResNet strikes back's A3 (LAMB, RandAugment, MixUp/CutMix, BCE); finetune: the "
        "paper's at a tenth of its rate, cosine, fewer epochs (the default with --weights).",
        choices=recipes.RECIPE_KINDS,
    )
    epochs: Optional[int] = _field(None, "Epochs (default: the recipe's; 3 on fashion_mnist).")
    batch_size: Optional[int] = _field(
        None,
        "Global batch size, split across replicas (default: the recipe's; 128 on fashion_mnist).",
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
        None,
        "Stochastic depth: the drop rate the residual branches' rates rise to with depth, as "
        "the family's paper spreads it (families whose builders take drop_path_rate); 0: off.",
    )
    agc_clip: Optional[float] = _field(
        None,
        "Adaptive gradient clipping (Brock et al. 2021): clip each unit's gradient to lambda "
        "times its weight's norm, on the gradient summed over the replicas; not the "
        "classifier's kernel (0: off; the NFNets' recipe: 0.01).",
    )
    bn_momentum: Optional[float] = _field(
        None,
        "Momentum of every BatchNormalization's moving averages, in Keras' convention (the "
        "old average's weight; timm's --bn-momentum 0.1 is 0.9 here) (default: the model's "
        "own; 0.9 on fashion_mnist).",
    )

    def __post_init__(self):
        _check_choice("recipe", self.recipe, recipes.RECIPE_KINDS)
        _check_integers(self, {"epochs": 1, "batch_size": 1})
        if self.learning_rate is not None and not self.learning_rate > 0:
            raise ValueError(f"learning_rate={self.learning_rate} is invalid; accepted: > 0.")
        if self.weight_decay is not None and not self.weight_decay >= 0:
            raise ValueError(f"weight_decay={self.weight_decay} is invalid; accepted: >= 0.")
        if self.randaugment is not None:
            parse_randaugment(self.randaugment)
        if self.random_erasing is not None:
            keras_classics.data.erasing.check_probability(self.random_erasing, "random_erasing")
        ema = self.ema
        if ema is not None and (
            isinstance(ema, bool) or not isinstance(ema, (int, float)) or not 0 <= ema < 1
        ):
            raise ValueError(f"ema={ema!r} is invalid; accepted: a decay in (0, 1), or 0 (off).")
        if self.stochastic_depth is not None:
            recipes.check_rate(self.stochastic_depth, "stochastic_depth")
        if self.agc_clip:
            agc.check_clipping(self.agc_clip)
        momentum = self.bn_momentum
        if momentum is not None and (
            isinstance(momentum, bool)
            or not isinstance(momentum, (int, float))
            or not 0 <= momentum < 1
        ):
            raise ValueError(f"bn_momentum={momentum!r} is invalid; accepted: 0 <= momentum < 1.")
        # MixUp's and CutMix's values are checked together with the recipe's (run_recipe).

    def pieces(self):
        """{Recipe field: value} of the training pieces this command sets (PIECE_FLAGS)."""
        out = {}
        for flag, field in PIECE_FLAGS.items():
            value = getattr(self, flag)
            if value is None:
                continue
            if flag == "randaugment":
                value = parse_randaugment(value)
            elif flag in ("ema", "agc_clip"):
                value = value or None
            out[field] = value
        return out


@dataclasses.dataclass(frozen=True)
class RuntimeConfig:
    """Where and how the steps run: devices, distribution, precision, step counts, seed."""

    strategy: str = _field(
        "auto",
        "auto: multi_worker with a TF_CONFIG cluster, mirrored on GPUs, else one device.",
        choices=distribute.STRATEGIES,
    )
    num_gpus: Optional[int] = _field(None, "Use only the first N visible GPUs.")
    mixed_precision: bool = _field(
        False,
        "Mixed precision: mixed_float16 on GPUs, mixed_bfloat16 on CPUs with AVX512_BF16 or "
        "AMX (refused on other CPUs); the classifier and BatchNorm statistics stay float32.",
    )
    jit_compile: bool = _field(False, "XLA-compile the training step.")
    sync_batchnorm: bool = _field(
        False, "BatchNorm statistics over the global batch, across replicas."
    )
    steps_per_epoch: Optional[int] = _field(None, "Steps per epoch (default: one pass).")
    max_steps: Optional[int] = _field(None, "Stop after this many steps in all (smoke runs).")
    validation_steps: Optional[int] = _field(None, "Validation batches (default: the whole split).")
    seed: int = _field(0, "Random seed: weights, data order, augmentation.")
    deterministic: bool = _field(False, "Deterministic ops and data (slower).")

    def __post_init__(self):
        _check_choice("strategy", self.strategy, distribute.STRATEGIES)
        _check_integers(
            self, {"num_gpus": 0, "steps_per_epoch": 1, "max_steps": 1, "validation_steps": 1}
        )


@dataclasses.dataclass(frozen=True)
class FinetuneConfig:
    """Fine-tuning (keras_classics/training/finetune.py; docs/finetuning.md)."""

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

    def __post_init__(self):
        m = self.body_lr_multiplier
        if m is not None and (isinstance(m, bool) or not isinstance(m, (int, float)) or not m > 0):
            raise ValueError(
                f"body_lr_multiplier={m!r} is invalid; accepted: a number > 0 (--freeze for 0)."
            )
        if m is not None and self.freeze == finetune.BACKBONE:
            raise ValueError(
                f"body_lr_multiplier={m} with freeze={finetune.BACKBONE!r} conflict: the whole "
                "body is frozen; accepted: one of them, or --freeze up to a stage."
            )
        finetune.parse_classes(self.classes)


# RunConfig's groups: attribute -> class. Each group's fields are flags of the same names.
GROUPS = {
    "data": DataConfig,
    "overrides": RecipeOverrides,
    "runtime": RuntimeConfig,
    "finetune": FinetuneConfig,
}


@dataclasses.dataclass(frozen=True)
class RunConfig:
    """The settings of one training run: what to train and where its files go, then one group
    per concern (GROUPS), each checking its own values as it is made. check_config adds the
    checks that need the model's spec, the file system or two groups at once.

    train/main.py's flags are the fields of this class (but the groups) and of the groups,
    one flag each, of the same name (flag_fields); RunConfig.from_flags makes one from them.
    """

    model: str = dataclasses.field(
        metadata={"help": "Registry name of the model.", "choices": keras_classics.list_models}
    )
    model_dir: Optional[str] = _field(None, "Checkpoints, logs, results. Default: runs/<model>.")
    export: bool = _field(False, "Export the trained model for TF Serving afterwards.")
    eval_only: bool = _field(False, "Only evaluate --checkpoint on the validation split.")
    checkpoint: Optional[str] = _field(None, "Weights file to evaluate with --eval_only.")
    data: DataConfig = dataclasses.field(default_factory=DataConfig)
    overrides: RecipeOverrides = dataclasses.field(default_factory=RecipeOverrides)
    runtime: RuntimeConfig = dataclasses.field(default_factory=RuntimeConfig)
    finetune: FinetuneConfig = dataclasses.field(default_factory=FinetuneConfig)

    def __post_init__(self):
        for name, group in GROUPS.items():
            if not isinstance(getattr(self, name), group):
                raise TypeError(
                    f"{name}={getattr(self, name)!r} is invalid; accepted: a {group.__name__}."
                )
        if self.eval_only != bool(self.checkpoint):
            raise ValueError(
                f"eval_only={self.eval_only} with checkpoint={self.checkpoint!r} "
                "conflict; accepted: --eval_only together with --checkpoint PATH."
            )
        if self.eval_only and self.export:
            raise ValueError("--eval_only and --export conflict; accepted: one of them.")

    @classmethod
    def from_flags(cls, **values):
        """A RunConfig from flag values by name (model="resnet18", epochs=3, ...); unset names
        keep their defaults."""
        grouped, own = {name: {} for name in GROUPS}, {}
        for name, value in values.items():
            group = FLAG_GROUPS.get(name, KeyError)
            if group is KeyError:
                raise TypeError(
                    f"{name}={value!r} is not a setting; accepted: {', '.join(FLAG_GROUPS)}."
                )
            (own if group is None else grouped[group])[name] = value
        return cls(**own, **{name: GROUPS[name](**kw) for name, kw in grouped.items()})


def flag_fields():
    """[(group attribute or None for RunConfig's own, dataclasses.Field)]: one flag each."""
    own = [(None, f) for f in dataclasses.fields(RunConfig) if f.name not in GROUPS]
    return own + [(name, f) for name, group in GROUPS.items() for f in dataclasses.fields(group)]


# Flag name -> its group's attribute (None: RunConfig's own field).
FLAG_GROUPS = {field.name: group for group, field in flag_fields()}


def flag_values(cfg):
    """{flag name: value} of a RunConfig (from_flags' inverse)."""
    return {
        f.name: getattr(cfg if group is None else getattr(cfg, group), f.name)
        for group, f in flag_fields()
    }


def recipe_kind(cfg):
    """--recipe, or "finetune" with --weights, or the dataset's default (the bundled one:
    "modern"), or "paper"."""
    if cfg.overrides.recipe:
        return cfg.overrides.recipe
    if cfg.finetune.weights:
        return "finetune"
    return defaults.for_dataset(cfg.data.dataset).recipe


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
    "agc_clip": "agc_clip",
    "bn_momentum": "bn_momentum",
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
    """The run's recipe: --recipe's for the model and dataset, with the dataset's run defaults
    (defaults.RunDefaults.bn_momentum) and then the training-piece flags (PIECE_FLAGS) in place
    of its values; its loss, mixing and erasing checked."""
    recipe = recipes.recipe_for(spec, recipe_kind(cfg), cfg.data.dataset)
    pieces = {**defaults.for_dataset(cfg.data.dataset).pieces(), **cfg.overrides.pieces()}
    recipe = dataclasses.replace(recipe, **pieces)
    if recipe.loss not in recipes.LOSSES:
        # optim.compile_model trains anything but "binary" as categorical: refused here.
        raise ValueError(
            f"loss={recipe.loss!r} of the {recipe_kind(cfg)} recipe for {spec.name} is "
            f"invalid; accepted: {recipes.LOSSES}."
        )
    keras_classics.data.mixing.Mixing(
        recipe.mixup, recipe.cutmix, recipe.mix_prob, recipe.mix_switch_prob
    )
    keras_classics.data.erasing.check_probability(recipe.random_erasing, "random_erasing")
    recipes.check_stochastic_depth(spec, recipe.stochastic_depth)
    return recipe


def model_dir_of(cfg):
    return cfg.model_dir or os.path.join("runs", cfg.model)


def check_config(cfg):
    """The refusals that need the model's spec, the file system or two groups at once (each
    group checks its own values); returns the model's spec."""
    spec = keras_classics.get_spec(cfg.model)
    data = cfg.data
    if data.dataset in ("imagenet", "folder"):
        if not data.data_dir or not os.path.isdir(data.data_dir):
            raise ValueError(
                f"data_dir={data.data_dir!r} is not a directory; dataset "
                f"{data.dataset!r} needs the directory that holds it."
            )
    if data.image_size is not None:
        check_image_size(data.image_size, spec)
    if cfg.checkpoint and not os.path.isfile(cfg.checkpoint):
        raise ValueError(f"checkpoint={cfg.checkpoint!r} does not exist.")
    run_recipe(cfg, spec)
    finetune.check_config(cfg, spec)
    if data.data_service is not None:
        check_data_service(cfg)
    if cfg.export:
        try:
            importlib.import_module("keras_classics.export.exporter")
        except ImportError as err:
            raise ValueError(
                f"--export needs keras_classics.export, which is not available here ({err})."
            ) from err
    return spec


def check_data_service(cfg):
    """--data_service and the settings it cannot serve (keras_classics/data/service.py)."""
    data, runtime = cfg.data, cfg.runtime
    policy = data.data_service_policy or service.DEFAULT_POLICY
    if cfg.eval_only:
        raise ValueError(
            f"eval_only=True with data_service={data.data_service!r} conflict: evaluation runs "
            "in this process; accepted: one of them."
        )
    if data.skip_errors:
        # The counters behind DatasetInfo.skipped() are tf.Variables of this process; the
        # workers drop the bad records but count them where the trainer never reads
        # (tests/data/test_service.py measures skipped() staying empty).
        raise ValueError(
            f"skip_errors=True with data_service={data.data_service!r} conflict: the records "
            "skipped on the service's workers would not be counted; accepted: one of them "
            "(keras_classics.data.find_bad_records names the bad records beforehand)."
        )
    if runtime.deterministic and policy != "off":
        raise ValueError(
            f"deterministic=True with data_service_policy={policy!r} conflict: its workers "
            "deliver the batches in an order that depends on timing; accepted: "
            "--data_service_policy off with one worker, or no --deterministic."
        )
    strategy = runtime.strategy
    if strategy == "multi_worker" or (strategy == "auto" and distribute.cluster_size() > 1):
        # Each trainer would open its own jobs (a whole epoch each), and Keras would shard
        # the received batches again: not tested, so refused.
        raise ValueError(
            f"data_service={data.data_service!r} with MultiWorkerMirroredStrategy is not "
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
