"""The modern training augmentations: each one's defining property, its determinism, and the
pipeline with all of them on (keras_classics/data/mixing.py, erasing.py, randaugment.py)."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_classics.data import erasing, get_dataset, mixing, randaugment

B, H, W, K = 6, 24, 20, 5


def batch(seed=0):
    """uint8 images whose mirror partners (the batch reversed) differ at every pixel, and
    classes whose partners differ."""
    rng = np.random.default_rng(seed)
    images = np.empty((B, H, W, 3), np.uint8)
    for i in range(B):
        images[i] = rng.integers(40 * i, 40 * i + 30, (H, W, 3))
    labels = np.eye(K, dtype=np.float32)[[0, 1, 2, 3, 4, 0]]
    return images, labels


def seed(i):
    return tf.constant([i, 7], tf.int64)


@pytest.mark.parametrize("i", range(5))
def test_mixup_labels_are_the_same_convex_combination_as_its_images(i):
    images, labels = batch(i)
    out, mixed, _, cut = mixing.mix_batch(images, labels, seed(i), mixing.Mixing(mixup=0.4))
    out, mixed = out.numpy().astype(np.float64), mixed.numpy()
    assert not bool(cut)
    # lambda read off the labels: image 0 (class 0) is mixed with image 5 (class 0 too), so
    # use image 1 (class 1) and its partner 4 (class 4).
    lam = mixed[1, 1]
    assert 0 < lam < 1 and mixed[1, 4] == pytest.approx(1 - lam)
    np.testing.assert_allclose(mixed.sum(1), 1.0, rtol=1e-6)
    expected = lam * images.astype(np.float64) + (1 - lam) * images[::-1]
    # The batch stays uint8: the combination rounded to whole levels.
    assert np.abs(out - expected).max() <= 0.5 + 1e-4
    np.testing.assert_allclose(mixed, lam * labels + (1 - lam) * labels[::-1], atol=1e-6)


@pytest.mark.parametrize("i", range(5))
def test_cutmix_label_weight_equals_the_pasted_area(i):
    images, labels = batch(i)
    out, mixed, _, cut = mixing.mix_batch(images, labels, seed(i), mixing.Mixing(cutmix=1.0))
    out, mixed = out.numpy(), mixed.numpy()
    assert bool(cut)
    pasted = (out != images).any(-1)  # partners differ at every pixel
    for j in range(B):
        share = pasted[j].mean()
        # The partner's label weight is the pasted share of the pixels ...
        partner = labels[B - 1 - j].argmax()
        own = labels[j].argmax()
        if partner != own:
            assert mixed[j, partner] == pytest.approx(share, abs=1e-6)
            assert mixed[j, own] == pytest.approx(1 - share, abs=1e-6)
        # ... which form one box, holding the partner's pixels, the same box in every image.
        rows, cols = np.nonzero(pasted[j])
        if rows.size:
            box = np.s_[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
            assert pasted[j][box].all() and pasted[j].sum() == pasted[j][box].size
            np.testing.assert_array_equal(out[j][box], images[B - 1 - j][box])
        np.testing.assert_array_equal(pasted[j], pasted[0])


def test_switch_and_mix_probabilities():
    images, labels = batch()
    both = dict(mixup=0.4, cutmix=1.0)
    cuts = [
        bool(mixing.mix_batch(images, labels, seed(i), mixing.Mixing(**both))[3]) for i in range(40)
    ]
    assert 5 < sum(cuts) < 35  # switch 0.5
    for p, expected in ((0.0, False), (1.0, True)):
        m = mixing.Mixing(**both, switch_prob=p)
        assert all(
            bool(mixing.mix_batch(images, labels, seed(i), m)[3]) == expected for i in range(8)
        )
    out, mixed, lam, _ = mixing.mix_batch(images, labels, seed(1), mixing.Mixing(**both, prob=0.0))
    np.testing.assert_array_equal(out, images)
    np.testing.assert_array_equal(mixed, labels)
    assert float(lam) == 1.0


@pytest.mark.parametrize("i", range(8))
def test_erasing_changes_only_the_erased_box(i):
    image = tf.random.stateless_uniform([H, W, 3], seed(100 + i), 0.0, 255.0)
    out = erasing.random_erasing(1.0)(image, seed(i)).numpy()
    y, x, h, w = erasing.erasing_box(tf.constant([H, W]), 1.0, seed(i)).numpy()
    assert h > 0 and w > 0 and y + h <= H and x + w <= W
    assert 0.02 * H * W * 0.5 <= h * w <= H * W / 3 * 1.5  # the paper's areas, rounded sides
    inside = np.zeros((H, W), bool)
    inside[y : y + h, x : x + w] = True
    changed = (out != image.numpy()).any(-1)
    assert not changed[~inside].any()
    assert changed[inside].mean() > 0.99
    assert out.min() >= 0 and out.max() <= 255
    off = erasing.random_erasing(0.0)(image, seed(i)).numpy()
    np.testing.assert_array_equal(off, image.numpy())


def test_randaugment_runs_only_the_chosen_operations_with_keras_pixels():
    """The switch_case form gives the pixels of keras.layers.RandAugment's own
    transform_images (every operation run, the chosen ones kept) for the same draws."""
    layer = randaugment._PerImageRandAugment(value_range=(0, 255), num_ops=2, factor=0.9)
    images = tf.random.stateless_uniform([1, 32, 32, 3], seed(3), 0.0, 255.0)
    chosen = set()
    for i in range(12):
        layer.seeds = randaugment._Seeds(seed(i))
        t = layer.get_random_transformation(images, training=True)
        chosen.update(t["layer_idxes"].numpy().tolist())
        ours = layer.transform_images(images, t)
        theirs = keras.layers.RandAugment.transform_images(layer, images, t)
        np.testing.assert_allclose(ours, theirs, atol=1e-3)
        # The same seed draws the same transformation: no state.
        layer.seeds = randaugment._Seeds(seed(i))
        again = layer.get_random_transformation(images, training=True)
        np.testing.assert_array_equal(again["layer_idxes"], t["layer_idxes"])
    assert len(chosen) > 4


@pytest.mark.parametrize(
    "call, pattern",
    [
        (lambda: randaugment.check_randaugment((0, 5)), r"randaugment=\(0, 5\) is invalid"),
        (lambda: randaugment.check_randaugment((2, 11)), r"magnitude 0 <= M <= 10"),
        (lambda: mixing.Mixing(mixup=-0.1), r"mixup=-0.1 is invalid; accepted: a Beta"),
        (lambda: mixing.Mixing(cutmix=1.0, prob=1.5), r"mix_prob=1.5 is invalid"),
        (lambda: erasing.random_erasing(2), r"random_erasing=2 is invalid"),
    ],
)
def test_bad_settings_are_refused(call, pattern):
    with pytest.raises(ValueError, match=pattern):
        call()


def pieces_dataset(seed=3, epoch=1, **kwargs):
    ds, _ = get_dataset(
        "fashion_mnist",
        "train",
        model="resnet18",
        global_batch_size=8,
        training=True,
        seed=seed,
        epoch=epoch,
        deterministic=True,
        **kwargs,
    )
    return [(x.numpy(), y.numpy()) for x, y in ds.take(3)]


ALL_ON = dict(randaugment=(2, 9), random_erasing=0.5, mix=mixing.Mixing(0.2, 1.0))


def test_pipeline_with_every_augmentation_is_a_function_of_seed_and_epoch():
    a, b = pieces_dataset(**ALL_ON), pieces_dataset(**ALL_ON)
    for (xa, ya), (xb, yb) in zip(a, b):
        np.testing.assert_array_equal(xa, xb)
        np.testing.assert_array_equal(ya, yb)
    x, y = a[0]
    assert x.dtype == np.uint8 and y.shape == (8, 10) and y.dtype == np.float32
    np.testing.assert_allclose(y.sum(1), 1.0, rtol=1e-6)
    plain = pieces_dataset()
    assert not np.array_equal(plain[0][0], x)
    assert not np.array_equal(pieces_dataset(epoch=2, **ALL_ON)[0][0], x)
    with pytest.raises(ValueError, match="training=True only"):
        get_dataset(
            "fashion_mnist",
            "validation",
            model="resnet18",
            global_batch_size=8,
            training=False,
            random_erasing=0.5,
        )
