"""Fine-tuning: --weights (a run's file, a weight card through the local server), --freeze,
--body_lr_multiplier, the finetune recipe and the class subset (--classes)."""

import dataclasses
import hashlib
import importlib.util
import io
import os
import sys

import keras
import numpy as np
import pytest
from PIL import Image

import keras_classics
from keras_classics.data import get_dataset, sources
from keras_classics.data.sources import fashion_mnist
from keras_classics.training import finetune, optim, recipes, schedules
from keras_classics.training.config import RunConfig, check_config, recipe_kind
from keras_classics.training.run import build_on_pixels, train
from keras_classics.weights.loading import stored_layers

TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _module(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# The weights tests' server on 127.0.0.1 and fresh cache (tests/pretrained/conftest.py), as
# fixtures of this module; loaded by path, since "conftest" names the suite's root one here.
_pretrained = _module("pretrained_conftest", os.path.join(TESTS, "pretrained", "conftest.py"))
server, cache = _pretrained.server, _pretrained.cache
RESNET18_CARD = "resnet18:torchvision:IMAGENET1K_V1"


def run_config(tmp_path, name, **kwargs):
    return RunConfig.from_flags(
        **{
            "model": "resnet18",
            "batch_size": 8,
            "max_steps": 1,
            "validation_steps": 1,
            "model_dir": str(tmp_path / name),
            **kwargs,
        }
    )


def body_and_head(path):
    """({layer: [arrays]} of the body, of the classifier) of a weights file."""
    layers = stored_layers(path)
    head = {k: v for k, v in layers.items() if k.endswith("predictions")}
    return {k: v for k, v in layers.items() if k not in head}, head


def assert_layers_equal(a, b):
    assert a.keys() == b.keys() and len(a) > 10
    for name in a:
        for x, y in zip(a[name], b[name], strict=True):
            np.testing.assert_array_equal(x, y, err_msg=name)


# --- the class subset ---------------------------------------------------------------------


def test_fashion_mnist_class_subset_relabels_in_the_given_order_and_keeps_only_those():
    for split, raw in (("train", "train"), ("validation", "test")):
        images, labels = fashion_mnist.load_arrays(raw)
        src = fashion_mnist.load(split, classes=(7, 2, 9))
        assert src.num_classes == 3
        assert src.class_names == ["Sneaker", "Pullover", "Ankle boot"]
        expected = np.flatnonzero(np.isin(labels, (7, 2, 9)))
        assert src.num_examples == len(expected) == 3 * len(labels) // 10
        got_images, got_labels, got_index = next(iter(src.records.batch(len(labels))))
        np.testing.assert_array_equal(got_index, expected)  # every one, no other class
        np.testing.assert_array_equal(got_images, images[expected])
        np.testing.assert_array_equal(got_labels, [(7, 2, 9).index(c) for c in labels[expected]])


def test_the_subset_reaches_the_batches_and_other_sources_refuse_it():
    ds, info = get_dataset(
        "fashion_mnist",
        "validation",
        model="resnet18",
        global_batch_size=200,
        training=False,
        deterministic=True,
        classes=(5, 6, 7, 8, 9),
    )
    labels = next(iter(ds))[1].numpy()
    assert (info.num_classes, info.num_examples) == (5, 5000)  # the test set's 1000 per class
    assert info.class_names == fashion_mnist.CLASS_NAMES[5:]
    _, raw = fashion_mnist.load_arrays("test")
    np.testing.assert_array_equal(labels, raw[np.isin(raw, range(5, 10))][:200] - 5)
    for bad in ((), (3, 3), (10,), (-1,)):
        with pytest.raises(ValueError, match=r"classes=.* is invalid; accepted: distinct"):
            fashion_mnist.load("train", classes=bad)
    with pytest.raises(ValueError, match=r"classes=\(1,\) is not supported for source='imagenet'"):
        sources.load("imagenet", "train", None, classes=(1,))


def test_folder_class_subset_in_the_given_order(tmp_path):
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buffer, "PNG")
    for split, per_class in (("train", 3), ("validation", 2)):
        for c in ("ant", "bee", "cat"):
            os.makedirs(tmp_path / split / c)
            for i in range(per_class):
                (tmp_path / split / c / f"{i}.png").write_bytes(buffer.getvalue())
    for split, per_class in (("train", 3), ("validation", 2)):
        src = sources.load("folder", split, str(tmp_path), classes=(2, 0))
        files, labels = zip(*[(f.decode(), int(y)) for f, y in src.records.as_numpy_iterator()])
        assert src.class_names == ["cat", "ant"] and src.num_examples == 2 * per_class
        assert [os.path.basename(os.path.dirname(f)) for f in files] == ["ant"] * per_class + [
            "cat"
        ] * per_class
        assert list(labels) == [1] * per_class + [0] * per_class


# --- the recipe and the flags ---------------------------------------------------------------


def test_finetune_recipe_is_the_papers_at_a_tenth_cosine_and_the_default_with_weights():
    resnet, inception = keras_classics.get_spec("resnet50"), keras_classics.get_spec("inception_v3")
    r = recipes.resolve(resnet, kind="finetune", global_batch_size=256, steps_per_epoch=100)
    # He et al. 2016: SGD 0.9, 0.1 per 256, weight decay 1e-4 -> 0.01, cosine, no warm-up.
    assert (r.optimizer, r.momentum, r.weight_decay, r.schedule) == ("sgd", 0.9, 1e-4, "cosine")
    assert r.base_learning_rate == pytest.approx(0.01) and r.epochs == 10
    assert (r.warmup_steps, r.boundaries_steps) == (0, ())
    s = schedules.from_resolved(r)
    assert float(s(0)) == pytest.approx(0.01) and float(s(500)) == pytest.approx(0.005)
    # Szegedy et al. 2016: RMSProp 0.045 per 32, clipping 2.0, label smoothing 0.1 (v3).
    r = recipes.resolve(inception, kind="finetune", global_batch_size=32, steps_per_epoch=10)
    assert (r.optimizer, r.clip_norm, r.label_smoothing) == ("rmsprop", 2.0, 0.1)
    assert r.base_learning_rate == pytest.approx(0.0045)
    # On Fashion-MNIST the paper's is the CIFAR one (0.1 per 128).
    small = recipes.recipe_for(resnet, "finetune", "fashion_mnist")
    assert (small.learning_rate, small.batch_size) == (pytest.approx(0.01), 128)
    assert recipe_kind(RunConfig.from_flags(model="resnet18", weights="imagenet")) == "finetune"
    assert recipe_kind(RunConfig.from_flags(model="resnet18")) == "modern"
    assert (
        recipe_kind(RunConfig.from_flags(model="resnet18", weights="imagenet", recipe="paper"))
        == "paper"
    )


def test_bad_fine_tuning_flags_are_refused_naming_the_flag(tmp_path):
    cases = [
        (dict(weights="no/such.weights.h5"), r"weights='no/such.weights.h5' is neither"),
        (dict(weights="torchvision:NO_SUCH_TAG"), r"NO_SUCH_TAG"),
        (dict(body_lr_multiplier=0.0), r"body_lr_multiplier=0.0 is invalid; accepted: a number"),
        (dict(body_lr_multiplier=0.1, freeze="backbone"), r"body_lr_multiplier=0.1 with freeze"),
        (dict(classes="1,1"), r"classes='1,1' is invalid; accepted: distinct"),
        (dict(classes="a"), r"classes='a' is invalid"),
        (dict(classes="1", dataset="tfds:mnist"), r"classes='1' is not supported for dataset"),
    ]
    for kwargs, message in cases:
        with pytest.raises(ValueError, match=message):
            check_config(RunConfig.from_flags(model="resnet18", **kwargs))
    with pytest.raises(ValueError, match=r"classes=\(10,\) is invalid"):
        train(run_config(tmp_path, "range", classes="10"))


# --- --freeze -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def resnet18():
    return build_on_pixels(keras_classics.get_spec("resnet18"), 32, 5)


def stage_of(name):
    """ResNet's stage of a layer name (He et al. 2016, Table 1: conv1, conv2_x ... conv5_x)."""
    if name in ("pixels", "input_normalization") or name.startswith(("conv1", "pool1")):
        return 1
    return int(name[4]) if name.startswith("conv") else 6  # the pool and the classifier: 6


def test_freeze_values_name_the_layers_up_to_a_stage(resnet18):
    names = [layer.name for layer in resnet18.layers]
    frozen = lambda value: [layer.name for layer in finetune.layers_to_freeze(resnet18, value)]  # noqa: E731
    # P3 is conv3_x's output: conv1 and the stages conv2_x, conv3_x, nothing after.
    assert frozen("P3") == frozen("conv3_block2_out") == [n for n in names if stage_of(n) <= 3]
    assert frozen("P5") == [n for n in names if stage_of(n) <= 5]
    assert frozen("backbone") == [n for n in names if n != "predictions"]
    # A layer inside a stage: its block's first convolution depends on the previous block only.
    inside = frozen("conv4_block2_1_conv")
    assert "conv4_block1_out" in inside and "conv4_block2_1_conv" in inside
    assert not {"conv4_block2_1_bn", "conv4_block2_out", "conv5_block1_out"} & set(inside)
    for bad in ("P9", "nope", "predictions"):
        with pytest.raises(ValueError) as err:
            finetune.layers_to_freeze(resnet18, bad)
        message = str(err.value)
        assert message.startswith(f"freeze={bad!r} is invalid for resnet18; accepted: 'backbone'")
        assert "P3 (conv3_block2_out)" in message and "all but predictions" in message


def test_inception_v3_freezes_up_to_mixed_6e():
    model = keras_classics.InceptionV3(input_shape=(75, 75, 3), classes=5)
    frozen = {layer.name for layer in finetune.layers_to_freeze(model, "mixed_6e")}
    # Szegedy et al. 2016, Table 1: the 17x17 modules 6a-6e, then 7a-7c on the 8x8 grid.
    assert {"mixed_5d", "mixed_6a", "mixed_6d", "mixed_6e"} <= frozen
    assert not any(name.startswith("mixed_7") for name in frozen)
    assert "predictions" not in frozen


def snapshot(model):
    return {v.path: v.numpy().copy() for v in model.weights}


def test_frozen_layers_and_their_batchnorm_statistics_do_not_change():
    model = build_on_pixels(keras_classics.get_spec("resnet18"), 32, 5)
    frozen = set(finetune.freeze(model, "P3"))
    spec = keras_classics.get_spec("resnet18")
    r = recipes.resolve(spec, kind="finetune", global_batch_size=8, steps_per_epoch=2)
    optim.compile_for_recipe(model, r)
    before = snapshot(model)
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (8, 32, 32, 3), dtype=np.uint8)
    y = np.eye(5)[rng.integers(0, 5, 8)]
    for _ in range(2):
        model.train_on_batch(x, y)
    after = snapshot(model)
    moved = {path for path in before if not np.array_equal(before[path], after[path])}
    layer_of = {v.path: layer.name for layer in model.layers for v in layer.weights}
    frozen_paths = {p for p in before if layer_of[p] in frozen}
    assert any(p.endswith("moving_mean") for p in frozen_paths)
    assert not moved & frozen_paths  # kernels, gamma/beta and moving mean/variance alike
    assert moved == set(before) - frozen_paths  # every other weight and statistic changed
    assert "conv4_block1_1_bn/moving_variance" in moved


# --- --body_lr_multiplier ------------------------------------------------------------------


def small_model():
    """A body (conv, BN) and a classifier, in float64 so that the comparison is exact."""
    keras.utils.set_random_seed(1)
    x = inputs = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(4, 3, use_bias=False, name="conv1", dtype="float64")(x)
    x = keras.layers.BatchNormalization(name="conv1_bn", dtype="float64")(x)
    x = keras.layers.GlobalAveragePooling2D(dtype="float64")(x)
    return keras.Model(inputs, keras.layers.Dense(3, name="predictions", dtype="float64")(x))


def one_step(r, rates, x, y):
    """(the weights' change in one training step, the optimizer) of small_model under `r`."""
    model = small_model()
    optim.compile_model(model, r, optim.make_optimizer(r, schedules.from_resolved(r), rates))
    before = snapshot(model)
    model.train_on_batch(x, y)
    return {p: w - before[p] for p, w in snapshot(model).items()}, model.optimizer


@pytest.mark.parametrize("model_name", ["resnet18", "inception_v3"])  # SGD, RMSprop
def test_body_update_is_the_multiplier_times_the_update_without_it(model_name):
    spec = keras_classics.get_spec(model_name)
    r = recipes.resolve(spec, kind="finetune", global_batch_size=4, steps_per_epoch=10)
    # Weight decay on every variable, large enough to be a visible part of the update.
    r = dataclasses.replace(r, weight_decay=0.05, decay_norm_and_bias=True)
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((4, 8, 8, 3)), np.eye(3)[[0, 1, 2, 0]]
    multiplier = 0.1
    rates = finetune.body_rate_multipliers(small_model(), multiplier)
    assert rates == dict.fromkeys(["conv1/kernel", "conv1_bn/gamma", "conv1_bn/beta"], multiplier)
    plain, plain_optimizer = one_step(r, None, x, y)
    rated, rated_optimizer = one_step(r, rates, x, y)
    # The same optimizer, with the same settings, and the rates.
    assert isinstance(rated_optimizer, type(plain_optimizer))
    config = {**plain_optimizer.get_config(), "rate_multipliers": rates}
    assert rated_optimizer.get_config() == {**config, "name": rated_optimizer.name}
    for path, delta in plain.items():
        if path.endswith(("moving_mean", "moving_variance")):  # statistics, not the optimizer's
            np.testing.assert_array_equal(rated[path], delta)
        elif path.startswith("predictions"):
            np.testing.assert_array_equal(rated[path], delta, err_msg=path)
        else:
            # Equal up to rounding: within 1e-7 of the largest update (the decay and the
            # gradient step nearly cancel on BN's gamma ~ 1, in two roundings of w).
            scale = np.abs(delta).max()
            assert scale > 1e-6, path
            np.testing.assert_allclose(
                rated[path], multiplier * delta, rtol=0, atol=1e-7 * scale, err_msg=path
            )


# --- --weights through the training program ------------------------------------------------


def test_a_five_class_runs_file_fine_tunes_on_the_other_five(tmp_path):
    first = train(run_config(tmp_path, "first", classes="0,1,2,3,4"))
    assert first["class_names"] == fashion_mnist.CLASS_NAMES[:5]
    source = tmp_path / "first" / "best.weights.h5"
    # Frozen backbone: after a step the body is still the file's, BN statistics included; the
    # classifier is a new one (random, then trained), of the five new classes.
    tuned = train(
        run_config(tmp_path, "tuned", classes="5,6,7,8,9", weights=str(source), freeze="backbone")
    )
    assert tuned["recipe"] == "finetune"
    assert tuned["class_names"] == fashion_mnist.CLASS_NAMES[5:]
    body, head = body_and_head(tmp_path / "tuned" / "last.weights.h5")
    source_body, source_head = body_and_head(source)
    assert_layers_equal(body, source_body)
    assert head["predictions"][0].shape == (512, 5)
    assert not np.allclose(head["predictions"][0], source_head["predictions"][0])
    # Unfrozen, with the body at a tenth of the rate: the body moves from the file's weights.
    train(
        run_config(
            tmp_path, "slow_body", classes="5,6,7,8,9", weights=str(source), body_lr_multiplier=0.1
        )
    )
    moved, _ = body_and_head(tmp_path / "slow_body" / "last.weights.h5")
    kernel = moved["conv1_conv"][0]
    assert not np.array_equal(kernel, source_body["conv1_conv"][0])
    np.testing.assert_allclose(kernel, source_body["conv1_conv"][0], atol=1e-2)


def test_weights_imagenet_loads_the_card_through_the_local_server(tmp_path, cache, server):
    sys.path.insert(0, os.path.join(TESTS, "convert"))
    from convert_parity import block_triton

    block_triton()
    torch = pytest.importorskip("torch", reason="the served checkpoint is made with torch")
    torchvision = pytest.importorskip("torchvision")
    from keras_classics import pretrained

    # Mechanics only: a randomly initialised torchvision ResNet-18 under the card's URL, the
    # card's published hash replaced by the served file's (serve_card in test_weights.py).
    torch.manual_seed(0)
    buffer = io.BytesIO()
    torch.save(torchvision.models.resnet18(weights=None).state_dict(), buffer)
    data = buffer.getvalue()
    card = pretrained.CARDS[RESNET18_CARD]
    algorithm = next(iter(card.hashes))
    digest = hashlib.new(algorithm, data).hexdigest()[: len(card.hashes[algorithm])]
    card = dataclasses.replace(card, hashes={algorithm: digest})
    mp = pytest.MonkeyPatch()
    mp.setitem(pretrained.CARDS, RESNET18_CARD, card)
    try:
        server.serve(card.url, data)
        results = train(
            run_config(tmp_path, "imagenet", classes="0,1,2", weights="imagenet", freeze="P5")
        )
        assert server.count(card.url) == 1 and results["class_names"] == [
            "T-shirt/top",
            "Trouser",
            "Pullover",
        ]
        body, head = body_and_head(tmp_path / "imagenet" / "last.weights.h5")
        card_body, card_head = body_and_head(pretrained.converted_path(card))
        assert_layers_equal(body, card_body)  # frozen up to P5: all of conv1 ... conv5_x
        assert card_head["predictions"][0].shape == (512, 1000)
        assert head["predictions"][0].shape == (512, 3)
    finally:
        mp.undo()
