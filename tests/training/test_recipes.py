"""Recipes resolve to the papers' numbers and every schedule follows its formula."""

import dataclasses
import fnmatch
import math

import keras
import numpy as np
import pytest

import keras_classics
from keras_classics.training import recipes
from keras_classics.training.schedules import PlateauDecay, RecipeSchedule, from_resolved


def lr(schedule, step):
    return float(schedule(step))


def test_resnet_paper_schedule_divides_by_ten_at_30_60_80():
    spec = keras_classics.get_spec("resnet50")
    r = recipes.resolve(spec, global_batch_size=256, steps_per_epoch=100)
    assert (r.optimizer, r.base_learning_rate, r.epochs, r.weight_decay) == ("sgd", 0.1, 90, 1e-4)
    assert r.boundaries_steps == (3000, 6000, 8000) and r.warmup_steps == 0
    assert not r.decay_norm_and_bias
    s = from_resolved(r)
    for step, expected in [
        (0, 0.1),
        (2999, 0.1),
        (3000, 0.01),
        (5999, 0.01),
        (6000, 0.001),
        (8000, 0.0001),
        (8999, 0.0001),
    ]:
        assert lr(s, step) == pytest.approx(expected, rel=1e-5), step


def test_learning_rate_scales_with_batch_and_large_batches_warm_up():
    spec = keras_classics.get_spec("resnext50_32x4d")
    r = recipes.resolve(spec, global_batch_size=1024, steps_per_epoch=10)
    assert r.base_learning_rate == pytest.approx(0.4)  # 0.1 x 1024 / 256 (Goyal et al.)
    assert r.warmup_steps == 50  # 5 epochs
    s = from_resolved(r)
    assert lr(s, 0) == pytest.approx(0.4 / 50, rel=1e-5)
    assert lr(s, 24) == pytest.approx(0.4 * 25 / 50, rel=1e-5)
    assert lr(s, 49) == pytest.approx(0.4, rel=1e-5)


def test_short_runs_compress_the_milestones():
    spec = keras_classics.get_spec("resnet18")
    r = recipes.resolve(spec, global_batch_size=128, epochs=3, steps_per_epoch=100)
    assert r.boundaries_steps == (100, 200, 267)  # 30, 60, 80 of 90 epochs -> of 3
    assert r.base_learning_rate == pytest.approx(0.05)


# Each family's paper recipe, read from the papers (and, where they are silent, the reference
# the family module cites): (source prefix, optimizer, LR, batch, epochs, schedule, weight
# decay). Written here, not read from the family modules: the records there must match them.
PAPER_NUMBERS = {
    "alexnet": ("Krizhevsky et al. 2012, section 5", "sgd", 0.01, 128, 90, "plateau", 5e-4),
    "vgg16": ("Simonyan & Zisserman 2015, section 3.1", "sgd", 0.01, 256, 74, "plateau", 5e-4),
    "googlenet": ("Szegedy et al. 2015, section 6", "sgd", 0.01, 32, 250, "exponential", 2e-4),
    "bn_inception": (
        "Szegedy et al. 2016, section 8",
        "rmsprop",
        0.045,
        32,
        100,
        "exponential",
        4e-5,
    ),
    "inception_v4": (
        "Szegedy et al. 2016, section 8",
        "rmsprop",
        0.045,
        32,
        100,
        "exponential",
        4e-5,
    ),
    "inception_resnet_v2": (
        "Szegedy et al. 2016, section 8",
        "rmsprop",
        0.045,
        32,
        100,
        "exponential",
        4e-5,
    ),
    "resnet50": ("He et al. 2016, section 3.4", "sgd", 0.1, 256, 90, "steps", 1e-4),
    "plainnet34": ("He et al. 2016, section 3.4", "sgd", 0.1, 256, 90, "steps", 1e-4),
    "resnext50_32x4d": ("Xie et al. 2017, section 4", "sgd", 0.1, 256, 90, "steps", 1e-4),
    "seresnet50": ("Hu et al. 2018, section 5.1", "sgd", 0.6, 1024, 100, "steps", 1e-4),
    "senet154": ("Hu et al. 2018, section 5.1", "sgd", 0.6, 1024, 100, "steps", 1e-4),
    "densenet121": ("Huang et al. 2017, section 4.2", "sgd", 0.1, 256, 90, "steps", 1e-4),
    "igc_l4m32": (
        "Zhang et al. 2017, the authors' train_imagenet.py",
        "sgd",
        0.1,
        256,
        95,
        "steps",
        1e-4,
    ),
    # v1 gives no numbers ("RMSprop ... similar to Inception V3"): Inception V3's; v2 and v3
    # give no epoch count (the family module's choice and its reason).
    "mobilenet_v1": (
        "Howard et al. 2017, section 3.4",
        "rmsprop",
        0.045,
        32,
        100,
        "exponential",
        4e-5,
    ),
    "mobilenet_v2": (
        "Sandler et al. 2018, section 6.1",
        "rmsprop",
        0.045,
        96,
        300,
        "exponential",
        4e-5,
    ),
    "mobilenet_v3_large": (
        "Howard et al. 2019, section 6.1",
        "rmsprop",
        0.1,
        4096,
        350,
        "exponential",
        1e-5,
    ),
    "dpn92": ("Chen et al. 2017, cypw/DPNs README", "sgd", 0.316, 1280, 90, "steps", 1e-4),
    "dpn131": ("Chen et al. 2017, cypw/DPNs README", "sgd", 0.316, 960, 90, "steps", 1e-4),
    # deepmind-research nfnets/experiment_nfnets.py: LR 0.1 x 4096 / 256; experiment.py.
    "nfnet_f0": ("Brock et al. 2021; deepmind", "sgd", 1.6, 4096, 360, "cosine", 2e-5),
    "nf_resnet50": ("Brock, De & Smith 2021; deepmind", "sgd", 0.4, 1024, 90, "cosine", 1e-4),
    # Section 5's 0.256 at batch 4K, as the release trains it: 0.016 per 256 images at 1024.
    "mnasnet_a1": ("Tan et al. 2019, section 5", "rmsprop", 0.064, 1024, 350, "exponential", 1e-5),
    "mnasnet1_0": ("Tan et al. 2019, section 5", "rmsprop", 0.064, 1024, 350, "exponential", 1e-5),
    "shufflenet_v1_g3": (
        "Zhang et al. 2018, section 4; megvii ShuffleNet-Series train.py",
        "sgd",
        0.5,
        1024,
        240,
        "linear",
        4e-5,
    ),
    "shufflenet_v2_x1_0": (
        "Ma et al. 2018; megvii ShuffleNet-Series train.py",
        "sgd",
        0.5,
        1024,
        240,
        "linear",
        4e-5,
    ),
    "efficientnet_b0": (
        "Tan & Le 2019, section 5.2",
        "rmsprop",
        0.256,
        4096,
        350,
        "exponential",
        1e-5,
    ),
    # 530k iterations of 256 images: 106 epochs of 1.28M.
    "residual_attention56": ("Wang et al. 2017, section 4.2", "sgd", 0.1, 256, 106, "steps", 1e-4),
    "attention_next56": ("Wang et al. 2017, section 4.2", "sgd", 0.1, 256, 106, "steps", 1e-4),
}


@pytest.mark.parametrize("name", sorted(PAPER_NUMBERS))
def test_each_family_module_gives_its_papers_recipe(name):
    r = recipes.recipe_for(keras_classics.get_spec(name))
    source, *numbers = PAPER_NUMBERS[name]
    assert r.source.startswith(source)
    assert [r.optimizer, r.learning_rate, r.batch_size, r.epochs, r.schedule, r.weight_decay] == (
        numbers
    )


def test_every_registered_model_has_a_paper_recipe_and_one_without_is_refused():
    for spec in map(keras_classics.get_spec, keras_classics.list_models()):
        assert spec.recipe is not None, spec.name
    bare = dataclasses.replace(keras_classics.get_spec("resnet18"), recipe=None)
    with pytest.raises(ValueError, match=r"recipe='paper' is invalid for resnet18.*'modern'"):
        recipes.recipe_for(bare)
    assert recipes.recipe_for(bare, "modern") is recipes.MODERN


def test_small_images_get_the_cifar_recipe_of_the_resnet_paper():
    """He et al. 2016, section 4.2: LR 0.1 at batch 128, / 10 at 32k and 48k of 64k
    iterations; a 2-epoch Fashion-MNIST run keeps them at 50% and 75%."""
    spec = keras_classics.get_spec("resnet18")
    r = recipes.resolve(
        spec, dataset="fashion_mnist", global_batch_size=128, epochs=2, steps_per_epoch=468
    )
    assert r.source.startswith("He et al. 2016, section 4.2")
    assert r.base_learning_rate == pytest.approx(0.1) and r.weight_decay == 1e-4
    assert r.boundaries_steps == (468, 702)
    s = from_resolved(r)
    for step, expected in [(0, 0.1), (467, 0.1), (468, 0.01), (701, 0.01), (702, 0.001)]:
        assert lr(s, step) == pytest.approx(expected, rel=1e-5), step
    # Families without a small-image recipe in their paper keep their ImageNet one.
    for name in ("vgg11", "inception_v3"):
        small = recipes.recipe_for(keras_classics.get_spec(name), dataset="fashion_mnist")
        assert small == recipes.recipe_for(keras_classics.get_spec(name))


def test_cifar_nets_get_section_4_2_on_any_dataset_and_resnet110_warms_up():
    """He et al. 2016, section 4.2: 64k iterations at batch 128 of 45k images (182 epochs of
    352 steps), LR / 10 at 32k and 48k; ResNet-110 warms up for about 400 iterations."""
    for name in ("resnet20_cifar", "plain56_cifar"):
        r = recipes.resolve(
            keras_classics.get_spec(name), global_batch_size=128, steps_per_epoch=352
        )
        assert r.source.startswith("He et al. 2016, section 4.2")
        assert (r.base_learning_rate, r.epochs, r.warmup_steps) == (0.1, 182, 0)
        assert r.boundaries_steps == (32032, 48048)  # 91 and 136.5 epochs: 32k and 48k
    r110 = recipes.resolve(
        keras_classics.get_spec("resnet110_cifar"), global_batch_size=128, steps_per_epoch=352
    )
    assert r110.warmup_steps == 352


def test_inception_v3_rmsprop_exponential_decay_and_label_smoothing():
    spec = keras_classics.get_spec("inception_v3")
    r = recipes.resolve(spec, global_batch_size=32, steps_per_epoch=50)
    assert (r.optimizer, r.rmsprop_rho, r.rmsprop_epsilon, r.clip_norm) == (
        "rmsprop",
        0.9,
        1.0,
        2.0,
    )
    assert r.label_smoothing == 0.1 and r.aux_loss_weights == (0.4,)
    s = from_resolved(r)
    # 0.045 decayed by 0.94 every 2 epochs (staircase).
    for step in (0, 99, 100, 250, 1000):
        assert lr(s, step) == pytest.approx(0.045 * 0.94 ** (step // 100), rel=1e-5)
    assert (
        recipes.resolve(
            keras_classics.get_spec("inception_v4"), global_batch_size=32, steps_per_epoch=50
        ).label_smoothing
        == 0.0
    )


def test_googlenet_four_percent_every_eight_epochs_with_aux_weights():
    r = recipes.resolve(
        keras_classics.get_spec("googlenet"), global_batch_size=32, steps_per_epoch=10
    )
    s = from_resolved(r)
    assert r.aux_loss_weights == (0.3, 0.3)
    assert lr(s, 79) == pytest.approx(0.01, rel=1e-5)
    assert lr(s, 80) == pytest.approx(0.0096, rel=1e-5)
    assert lr(s, 165) == pytest.approx(0.01 * 0.96**2, rel=1e-5)


def test_modern_recipe_is_cosine_after_warmup():
    spec = keras_classics.get_spec("vgg16")
    r = recipes.resolve(spec, kind="modern", global_batch_size=256, epochs=10, steps_per_epoch=100)
    assert r.warmup_steps == round(5 * 10 / 90 * 100) and r.label_smoothing == 0.1
    s = from_resolved(r)
    total, warm = 1000, r.warmup_steps
    for step in (warm, 500, 999):
        expected = 0.1 * 0.5 * (1 + math.cos(math.pi * (step - warm) / (total - warm)))
        assert lr(s, step) == pytest.approx(expected, rel=1e-4, abs=1e-7)


def test_plateau_divides_by_ten_after_patience():
    r = recipes.resolve(
        keras_classics.get_spec("alexnet"), global_batch_size=128, steps_per_epoch=10
    )
    assert (r.schedule, r.base_learning_rate, r.weight_decay) == ("plateau", 0.01, 5e-4)
    s = from_resolved(r)
    plateau = PlateauDecay(s, "val_top1", patience=2)
    for epoch, top1 in enumerate([0.5, 0.6, 0.6, 0.55]):
        plateau.on_epoch_end(epoch, {"val_top1": top1})
    assert lr(s, 5) == pytest.approx(0.001, rel=1e-5)
    plateau.on_epoch_end(4, {"val_top1": 0.7})
    assert lr(s, 5) == pytest.approx(0.001, rel=1e-5)


def test_shufflenet_learning_rate_falls_linearly_to_zero():
    """megvii's ShuffleNet-Series train.py: LambdaLR(1 - step / total_iters), 0.5 at batch
    1024 with no warm-up, label smoothing 0.1, no weight decay on BN parameters and biases."""
    spec = keras_classics.get_spec("shufflenet_v1_g8")
    r = recipes.resolve(spec, global_batch_size=1024, epochs=10, steps_per_epoch=100)
    assert (r.schedule, r.warmup_steps, r.label_smoothing) == ("linear", 0, 0.1)
    assert r.decay_norm_and_bias is False
    s = from_resolved(r)
    for step in (0, 250, 500, 999, 1000, 1200):
        assert lr(s, step) == pytest.approx(0.5 * max(0.0, 1 - step / 1000), abs=1e-7)
    warm = RecipeSchedule(1.0, "linear", 100, warmup_steps=20)
    assert lr(warm, 60) == pytest.approx(0.5) and lr(warm, 9) == pytest.approx(0.5)


def test_schedule_round_trips_through_keras_serialization():
    s = RecipeSchedule(0.1, "steps", 100, boundaries=(10, 20), warmup_steps=5)
    restored = keras.optimizers.schedules.deserialize(keras.optimizers.schedules.serialize(s))
    for step in (0, 4, 10, 25):
        assert lr(restored, step) == pytest.approx(lr(s, step))


@pytest.mark.parametrize(
    "kwargs,pattern",
    [
        ({"kind": "fast"}, r"recipe='fast' .*'paper', 'modern'"),
        ({"steps_per_epoch": 0}, r"steps_per_epoch=0 .*>= 1"),
    ],
)
def test_bad_recipe_arguments(kwargs, pattern):
    with pytest.raises(ValueError, match=pattern):
        recipes.resolve(keras_classics.get_spec("resnet18"), **{"steps_per_epoch": 1, **kwargs})


# The modern training pieces the papers' recipes have, by registry name pattern: (EMA decay,
# stochastic depth, any of RandAugment, MixUp, CutMix, random erasing); the others have none.
PAPER_PIECES = {
    "mobilenet_v3*": (0.9998, 0, False),  # Howard et al. 2019, section 6.1
    "mnasnet*": (0.9999, 0, False),  # Tan et al. 2019; tensorflow/tpu mnasnet_config.py
    # Tan & Le 2019, section 5.2 (survival probability 0.8); tensorflow/tpu main.py (EMA).
    "efficientnet_*": (0.9999, 0.2, False),
    # Brock et al. 2021, experiment_nfnets.py; NF-ResNet: nf_resnet.py's stochdepth_rate.
    "nfnet_f*": (0.99999, 0.25, True),
    "nf_resnet50": (None, 0.1, False),
}


def test_rsb_a3_resolves_to_the_papers_numbers_and_flags_override_its_pieces():
    """Wightman et al. 2021, Table 1, A3; the papers' and the modern recipe have every
    piece off; a flag replaces the recipe's value."""
    from keras_classics.training import optim
    from keras_classics.training.config import RunConfig, run_recipe

    spec = keras_classics.get_spec("resnet50")
    r = recipes.resolve(spec, kind="rsb_a3", global_batch_size=2048, steps_per_epoch=100)
    assert (r.optimizer, r.base_learning_rate, r.epochs, r.schedule) == (
        "lamb",
        8e-3,
        100,
        "cosine",
    )
    assert (r.weight_decay, r.decay_norm_and_bias, r.warmup_steps) == (0.02, False, 500)
    assert (r.randaugment, r.mixup, r.cutmix, r.mix_prob, r.mix_switch_prob) == (
        (2, 6),
        0.1,
        1.0,
        1.0,
        0.5,
    )
    assert (r.loss, r.label_smoothing, r.ema_decay, r.random_erasing) == ("binary", 0.0, None, 0.0)
    assert "ResNet strikes back" in r.source and '"loss": "binary"' in r.to_json()
    assert isinstance(optim.make_optimizer(r, 1e-3), keras.optimizers.Lamb)
    igc = recipes.resolve(keras_classics.get_spec("igc_l4m32"), steps_per_epoch=1)
    sgd = optim.make_optimizer(igc, 1e-3)
    assert (type(sgd), sgd.nesterov, igc.nesterov) == (keras.optimizers.SGD, True, True)
    assert not optim.make_optimizer(recipes.resolve(spec, steps_per_epoch=1), 1e-3).nesterov
    paper = {
        name: recipes.recipe_for(keras_classics.get_spec(name))
        for name in keras_classics.list_models()
    }
    for name, recipe in [*paper.items(), ("modern", recipes.MODERN)]:
        ema, depth, pieces = next(
            (v for k, v in PAPER_PIECES.items() if fnmatch.fnmatchcase(name, k)), (None, 0, False)
        )
        augments = recipe.randaugment or recipe.mixup or recipe.cutmix or recipe.random_erasing
        assert bool(augments) == pieces, name
        assert (recipe.ema_decay, recipe.stochastic_depth, recipe.loss) == (
            ema,
            depth,
            "categorical",
        ), name

    cfg = RunConfig.from_flags(
        model="resnet50", recipe="rsb_a3", randaugment="none", mixup=0.0, ema=0.9998
    )
    mine = run_recipe(cfg, spec)
    assert (mine.randaugment, mine.mixup, mine.cutmix, mine.ema_decay) == (None, 0.0, 1.0, 0.9998)
    opt = optim.make_optimizer(recipes.resolve(spec, steps_per_epoch=1, recipe=mine), 1e-3)
    assert opt.use_ema and opt.ema_momentum == 0.9998
    with pytest.raises(
        ValueError, match="stochastic_depth=0.05 is invalid for resnet50: the resnet"
    ):
        recipes.resolve(
            spec,
            steps_per_epoch=1,
            recipe=dataclasses.replace(recipes.RSB_A3, stochastic_depth=0.05),
        )
    # --stochastic_depth reaches the same refusal for a family whose builders lack the option.
    with pytest.raises(ValueError, match="stochastic_depth=0.1 is invalid for resnet50: the"):
        run_recipe(RunConfig.from_flags(model="resnet50", stochastic_depth=0.1), spec)


def test_a_recipe_loss_other_than_the_accepted_ones_is_refused(monkeypatch):
    """optim.compile_model trains anything but "binary" as categorical: the run's recipe
    refuses any other loss instead."""
    from keras_classics.training.config import RunConfig, run_recipe

    recipe_for = recipes.recipe_for
    monkeypatch.setattr(
        recipes,
        "recipe_for",
        lambda *args: dataclasses.replace(recipe_for(*args), loss="focal"),
    )
    with pytest.raises(
        ValueError,
        match=r"loss='focal' of the modern recipe for resnet18 is invalid; "
        r"accepted: \('categorical', 'binary'\)",
    ):
        run_recipe(RunConfig(model="resnet18"), keras_classics.get_spec("resnet18"))


def test_binary_loss_is_one_vs_all_on_soft_targets():
    from keras_classics.training import optim

    spec = keras_classics.get_spec("resnet18")
    r = recipes.resolve(spec, kind="rsb_a3", steps_per_epoch=1)
    inputs = keras.Input((3,))
    model = keras.Model(inputs, keras.layers.Dense(4)(inputs))
    optim.compile_model(model, r, "sgd")
    logits = np.array([[1.0, -2.0, 0.5, 0.0]], np.float32)
    target = np.array([[0.7, 0.0, 0.3, 0.0]], np.float32)
    p = 1 / (1 + np.exp(-logits))
    expected = np.mean(-(target * np.log(p) + (1 - target) * np.log(1 - p)))
    assert float(model.loss(target, logits)) == pytest.approx(expected, rel=1e-5)
