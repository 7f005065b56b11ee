"""The run's plan, its flags and its duration estimate, against hand computation; no training."""

import dataclasses
import types

import pytest
from absl import flags

import keras_classics
from keras_classics.training import callbacks, cli, config
from keras_classics.training.config import RunConfig
from keras_classics.training.plan import RunPlan, make_plan


def info(num_examples=60000, image_size=32, augmentation="none"):
    """What make_plan reads of get_dataset's DatasetInfo."""
    return types.SimpleNamespace(
        num_examples=num_examples, image_size=image_size, augmentation=augmentation
    )


def plan_of(replicas=1, dataset_info=None, **kwargs):
    cfg = RunConfig.from_flags(**{"model": "resnet18", **kwargs})
    return make_plan(cfg, keras_classics.get_spec(cfg.model), dataset_info or info(), replicas)


def test_default_run_plan_is_the_bundled_short_run():
    plan = plan_of()
    # 60000 // 128 = 468 steps an epoch, 3 epochs; the modern recipe's 5 of 90 epochs of
    # warm-up shrink with the run: 5 * 3 / 90 * 468 = 78 steps; LR 0.1 x 128 / 256.
    assert (plan.global_batch_size, plan.image_size, plan.epochs) == (128, 32, 3)
    assert (plan.steps_per_epoch, plan.total_steps, plan.recipe) == (468, 1404, "modern")
    assert [plan.steps_in(k) for k in range(3)] == [468, 468, 468]
    r = plan.resolved
    assert (r.epochs, r.steps_per_epoch, r.warmup_steps) == (3, 468, 78)
    assert r.base_learning_rate == pytest.approx(0.05) and r.label_smoothing == 0.1
    assert plan.identity() == {
        "model": "resnet18",
        "dataset": "fashion_mnist",
        "recipe": "modern",
        "image_size": 32,
        "global_batch_size": 128,
    }
    assert not plan.use_aux and plan.augmentation == "none"


def test_batchnorm_momentum_is_the_bundled_runs_unless_the_flag_says():
    # fashion_mnist's run defaults give every recipe 0.9; elsewhere the model keeps its own.
    assert plan_of().resolved.bn_momentum == 0.9
    assert plan_of(recipe="paper").resolved.bn_momentum == 0.9
    assert plan_of(bn_momentum=0.99).resolved.bn_momentum == 0.99
    imagenet = plan_of(dataset="imagenet", data_dir="/d", dataset_info=info(1281167, 224))
    assert imagenet.resolved.bn_momentum is None
    assert plan_of(dataset="imagenet", data_dir="/d", bn_momentum=0.0).resolved.bn_momentum == 0


def test_plan_is_frozen():
    plan = plan_of()
    assert isinstance(plan, RunPlan)
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan.epochs = 4


def test_max_steps_cuts_the_last_epoch():
    plan = plan_of(max_steps=1000)
    # 1000 = 468 + 468 + 64: three epochs, the last one short.
    assert (plan.epochs, plan.total_steps) == (3, 1000)
    assert [plan.steps_in(k) for k in range(3)] == [468, 468, 64]
    plan = plan_of(max_steps=2, batch_size=8, epochs=5, steps_per_epoch=6)
    assert (plan.epochs, plan.steps_per_epoch, plan.total_steps) == (1, 6, 2)
    assert plan.resolved.epochs == 1


def test_other_datasets_take_the_paper_recipe_and_aux_heads_at_full_size():
    cfg = dict(model="googlenet", dataset="imagenet", data_dir="/data")
    plan = plan_of(dataset_info=info(1281167, 224, "inception"), **cfg)
    # BVLC solver: batch 32, 250 epochs; 1281167 // 32 = 40036 steps an epoch.
    assert (plan.recipe, plan.global_batch_size, plan.epochs) == ("paper", 32, 250)
    assert (plan.steps_per_epoch, plan.total_steps) == (40036, 250 * 40036)
    assert plan.use_aux and plan.resolved.aux_loss_weights == (0.3, 0.3)
    assert not plan_of(dataset_info=info(1281167, 112), **cfg).use_aux


def test_batch_not_divisible_by_replicas_is_refused():
    with pytest.raises(ValueError, match=r"batch_size=128 is not divisible by the 3 replicas"):
        plan_of(replicas=3)
    assert plan_of(replicas=4).global_batch_size == 128


def test_every_runconfig_field_is_a_flag_with_its_default():
    values = flags.FlagValues()
    cli.define_flags(values)
    fields = {f.name: f for _, f in config.flag_fields()}
    assert set(values) == set(fields) | set(cli.PROCESS_FLAGS)
    for name, field in fields.items():
        default = None if field.default is dataclasses.MISSING else field.default
        assert values[name].default == default, name
        assert values[name].help.endswith(field.metadata["help"]), name  # enums: "<a|b>: "
    assert values["model"].validators  # required
    assert values["recipe"].parser.enum_values == ["paper", "modern", "rsb_a3", "finetune"]
    assert "resnext50_32x4d" in values["model"].parser.enum_values
    values(
        [
            "main.py",
            "--model",
            "vgg11",
            "--epochs",
            "2",
            "--learning_rate",
            "0.5",
            "--mixed_precision",
            "--data_dir",
            "/d",
            "--randaugment",
            "2,9",
            "--cutmix",
            "1",
            "--ema",
            "0.9998",
        ]
    )
    assert cli.config_from(values) == RunConfig.from_flags(
        model="vgg11",
        epochs=2,
        learning_rate=0.5,
        mixed_precision=True,
        data_dir="/d",
        randaugment="2,9",
        cutmix=1.0,
        ema=0.9998,
    )


def test_estimate_leaves_out_the_compiling_step():
    lines = []
    clock = iter([100.0] + [100.0 + 0.45 * k for k in range(1, 9)])
    estimate = callbacks.StepTimeEstimate(
        1404, timed=5, clock=lambda: next(clock), write=lambda line, flush: lines.append(line)
    )
    estimate.on_epoch_begin(0)
    estimate.on_train_batch_end(0)  # the first step of the process: compiling, not timed
    for batch in range(1, 8):
        estimate.on_train_batch_end(batch)
    # 0.45 s x 1404 = 632 s: 11 min; printed once.
    assert lines == ["\nabout 0.45 s a step, 1404 steps: about 11 min"]


def test_estimate_restarts_its_count_after_an_epoch_boundary():
    ends = iter([0.0, 1.0, 50.0, 52.0, 54.0])  # validation between 1.0 and 50.0
    lines = []
    estimate = callbacks.StepTimeEstimate(
        10, timed=2, clock=lambda: next(ends), write=lambda line, flush: lines.append(line)
    )
    estimate.on_epoch_begin(0)
    estimate.on_train_batch_end(0)
    estimate.on_train_batch_end(1)
    estimate.on_epoch_begin(1)
    for batch in range(3):
        estimate.on_train_batch_end(batch)
    assert lines == ["\nabout 2 s a step, 10 steps: about 20 s"]


@pytest.mark.parametrize(
    "seconds,text", [(40, "40 s"), (632, "11 min"), (3 * 3600 + 5 * 60, "3 h 5 min")]
)
def test_duration(seconds, text):
    assert callbacks.duration(seconds) == text


# train/main.py's flags, by name: a renamed or removed flag fails here.
FLAGS = {
    "model": None,
    "model_dir": None,
    "export": None,
    "eval_only": None,
    "checkpoint": None,
    "dataset": "data",
    "data_dir": "data",
    "image_size": "data",
    "augmentation": "data",
    "skip_errors": "data",
    "label_offset": "data",
    "data_service": "data",
    "data_service_policy": "data",
    "recipe": "overrides",
    "epochs": "overrides",
    "batch_size": "overrides",
    "learning_rate": "overrides",
    "weight_decay": "overrides",
    "randaugment": "overrides",
    "mixup": "overrides",
    "cutmix": "overrides",
    "mix_prob": "overrides",
    "mix_switch_prob": "overrides",
    "random_erasing": "overrides",
    "ema": "overrides",
    "stochastic_depth": "overrides",
    "agc_clip": "overrides",
    "bn_momentum": "overrides",
    "strategy": "runtime",
    "num_gpus": "runtime",
    "mixed_precision": "runtime",
    "jit_compile": "runtime",
    "sync_batchnorm": "runtime",
    "steps_per_epoch": "runtime",
    "max_steps": "runtime",
    "validation_steps": "runtime",
    "seed": "runtime",
    "deterministic": "runtime",
    "weights": "finetune",
    "freeze": "finetune",
    "body_lr_multiplier": "finetune",
    "classes": "finetune",
}


def test_the_flags_are_the_settings_by_name_and_group():
    values = flags.FlagValues()
    cli.define_flags(values)
    assert set(values) == set(FLAGS) | {"cpu_devices"}
    assert config.FLAG_GROUPS == FLAGS
    cfg = RunConfig.from_flags(model="vgg11", epochs=2, seed=3, classes="1,2", data_dir="/d")
    assert (cfg.overrides.epochs, cfg.runtime.seed, cfg.finetune.classes) == (2, 3, "1,2")
    assert cfg.data.data_dir == "/d"
    assert config.flag_values(cfg) == {
        **{f.name: f.default for _, f in config.flag_fields() if f.name != "model"},
        "model": "vgg11",
        "epochs": 2,
        "seed": 3,
        "classes": "1,2",
        "data_dir": "/d",
    }
    with pytest.raises(TypeError, match=r"sd=0.1 is not a setting; accepted: model"):
        RunConfig.from_flags(model="resnet18", sd=0.1)


@pytest.mark.parametrize(
    "group,kwargs,message",
    [
        (config.DataConfig, {"dataset": "mnist"}, r"dataset='mnist' is invalid; accepted: \("),
        (config.DataConfig, {"image_size": 0}, r"image_size=0 is invalid; accepted: a positive"),
        (
            config.DataConfig,
            {"data_service_policy": "off"},
            r"data_service_policy='off' without data_service; accepted:",
        ),
        (config.RecipeOverrides, {"recipe": "fast"}, r"recipe='fast' is invalid; accepted: \("),
        (config.RecipeOverrides, {"batch_size": 0}, r"batch_size=0 is invalid; accepted: a pos"),
        (config.RecipeOverrides, {"weight_decay": -1}, r"weight_decay=-1 is invalid; accepted"),
        (
            config.RecipeOverrides,
            {"stochastic_depth": 1.0},
            r"stochastic_depth=1.0 is invalid; accepted: a drop rate in \[0, 1\)",
        ),
        (config.RecipeOverrides, {"ema": 1.0}, r"ema=1.0 is invalid; accepted: a decay"),
        (config.RecipeOverrides, {"bn_momentum": 1}, r"bn_momentum=1 is invalid; accepted: 0 <="),
        (config.RuntimeConfig, {"strategy": "tpu"}, r"strategy='tpu' is invalid; accepted: \("),
        (config.RuntimeConfig, {"num_gpus": -1}, r"num_gpus=-1 is invalid; accepted: an integer"),
        (config.RuntimeConfig, {"max_steps": 1.5}, r"max_steps=1.5 is invalid; accepted: a pos"),
        (config.FinetuneConfig, {"classes": "x"}, r"classes='x' is invalid; accepted: distinct"),
        (
            config.FinetuneConfig,
            {"body_lr_multiplier": -1.0},
            r"body_lr_multiplier=-1.0 is invalid; accepted: a number > 0",
        ),
    ],
)
def test_each_group_refuses_its_bad_values_naming_them(group, kwargs, message):
    with pytest.raises(ValueError, match=message):
        group(**kwargs)
    group()  # the defaults are valid


def test_groups_are_frozen_and_typed():
    cfg = RunConfig(model="resnet18")
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.runtime.seed = 1
    with pytest.raises(TypeError, match=r"data=\{\} is invalid; accepted: a DataConfig"):
        RunConfig(model="resnet18", data={})
