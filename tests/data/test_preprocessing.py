"""Augmentation invariants and eval crops against NumPy crops of the decoded image."""

import colorsys
import itertools

import numpy as np
import pytest
import tensorflow as tf

from keras_classics import get_spec, preprocess_input
from keras_classics.data import decoders, eval_preprocess, eval_preprocess_jpeg
from keras_classics.data import train_preprocessing as tp
from keras_classics.data.eval_preprocessing import ten_crop
from keras_classics.records.augmentation import Augmentation
from photos import photo

SPEC = get_spec("resnet18")


def seed(i):
    return tf.constant([i, 7], tf.int64)


def test_decode_and_crop_equals_numpy_crop_of_full_decode():
    data = tf.io.encode_jpeg(photo("chelsea", (300, 451))).numpy()
    full = tf.io.decode_jpeg(data).numpy()
    window = tf.constant([37, 101, 120, 200])
    crop = decoders.decode_crop(tf.constant(data), window).numpy()
    np.testing.assert_array_equal(crop, full[37:157, 101:301])
    assert tuple(decoders.image_shape(tf.constant(data)).numpy()) == (300, 451)


def test_inception_windows_respect_area_and_aspect_bounds():
    shape = tf.constant([375, 500])
    areas, aspects = [], []
    for i in range(200):
        y, x, h, w = tp.inception_window(shape, 224, seed(i)).numpy()
        assert 0 <= y and y + h <= 375 and 0 <= x and x + w <= 500
        areas.append(h * w / (375 * 500))
        aspects.append(w / h)
    # Integer rounding of the window moves the bounds by at most a pixel.
    assert min(areas) >= 0.08 - 0.005 and max(areas) <= 1.0
    assert min(aspects) >= 3 / 4 - 0.01 and max(aspects) <= 4 / 3 + 0.01
    assert max(areas) - min(areas) > 0.5  # the range is really sampled


@pytest.mark.parametrize(
    "name,lo,hi", [("vgg", 256, 512), ("resnet", 256, 480), ("alexnet", 256, 256)]
)
def test_scale_jitter_windows_match_the_papers_scales(name, lo, hi):
    h, w = 300, 400
    sides = []
    for i in range(100):
        y, x, wh, ww = tp.AUGMENTATIONS[name].window(tf.constant([h, w]), 224, seed(i)).numpy()
        assert wh == ww and 0 <= y and y + wh <= h and 0 <= x and x + ww <= w
        if name == "alexnet":  # inside the central square (paper section 2)
            assert 50 <= x and x + ww <= 350
        sides.append(wh)
    # side = 224 * shorter / S  <=>  S = 224 * 300 / side
    scales = 224 * 300 / np.array(sides)
    assert scales.min() >= lo - 2 and scales.max() <= hi + 2
    if lo != hi:
        assert scales.max() - scales.min() > 0.5 * (hi - lo)


def test_flip_and_determinism_of_train_preprocess():
    image = tf.constant(photo("astronaut", (120, 120)))
    outs = [tp.augment(image, "none", 96, seed(i), 1.0).numpy() for i in range(4)]
    # "none" = the eval crop, unflipped, independent of the seed.
    for o in outs[1:]:
        np.testing.assert_array_equal(o, outs[0])
    flips = set()
    for i in range(20):
        a = tp.augment(image, "pad_crop", 96, seed(i), 1.0).numpy()
        b = tp.augment(image, "pad_crop", 96, seed(i), 1.0).numpy()
        np.testing.assert_array_equal(a, b)
    for i in range(20):
        x = tp.augment(image, "inception", 96, seed(i), 1.0).numpy()
        flips.add(bool(np.allclose(x, tp.augment(image, "inception", 96, seed(i), 1.0).numpy())))
    assert flips == {True}
    # The flip is a mirror: with a full-image window the two outcomes are mirror images.
    full = tp.augment(image, "none", 96, seed(0), 1.0).numpy()
    seen = {0: 0, 1: 0}
    for i in range(20):
        s = tp._seeds(seed(i), 2)[1]
        flipped = tp.random_flip(tf.constant(full), s).numpy()
        if np.array_equal(flipped, full[:, ::-1]):
            seen[1] += 1
        else:
            np.testing.assert_array_equal(flipped, full)
            seen[0] += 1
    assert seen[0] > 0 and seen[1] > 0


@pytest.mark.parametrize("augmentation", list(tp.AUGMENTATIONS))
def test_every_augmentation_gives_normalised_values_in_range(augmentation):
    image = tf.constant(photo("coffee", (200, 300)))
    x = tp.train_preprocess(image, SPEC, 64, augmentation, seed(3)).numpy()
    assert x.shape == (64, 64, 3) and x.dtype == np.float32
    lo = preprocess_input(np.zeros((1, 1, 3)), "torch").ravel()
    hi = preprocess_input(np.full((1, 1, 3), 255.0), "torch").ravel()
    assert (x >= lo - 1e-4).all() and (x <= hi + 1e-4).all()
    assert x.std() > 0.1


def test_pca_lighting_adds_one_rgb_shift_along_the_eigenvectors():
    image = tf.fill([8, 8, 3], 128.0)
    out = tp.pca_lighting(image, seed(5)).numpy()
    shift = out[0, 0] - 128.0
    np.testing.assert_allclose(out - 128.0, np.broadcast_to(shift, out.shape), atol=1e-4)
    # shift / 255 = V (alpha * lambda): recover alpha and check it is a plausible N(0, 0.1) draw.
    alpha = np.linalg.solve(np.array(tp.PCA_EIGVEC), shift / 255.0) / np.array(tp.PCA_EIGVAL)
    assert np.abs(alpha).max() < 0.6 and np.abs(alpha).max() > 1e-4


def colorsys_hls_shift(image, offsets):
    """MXNet's HLS jitter per pixel through Python's colorsys (OpenCV's HLS definition), offsets
    in OpenCV 8-bit units (hue 0-180, saturation and lightness 0-255), each clipped."""
    dh, ds, dl = offsets
    out = np.empty(image.shape, np.float64)
    for index in np.ndindex(image.shape[:2]):
        hue, light, sat = colorsys.rgb_to_hls(*(image[index] / 255.0))
        hue = min(max(hue * 180.0 + dh, 0.0), 180.0) / 180.0
        light, sat = (min(max(v + d / 255.0, 0.0), 1.0) for v, d in ((light, dl), (sat, ds)))
        out[index] = np.array(colorsys.hls_to_rgb(hue % 1.0, light, sat)) * 255.0
    return out


@pytest.mark.parametrize("offsets", [(0, 0, 0), (20, -40, 50), (-36, 50, -50), (170, 0, 0)])
def test_hls_shift_matches_colorsys(offsets):
    image = photo("coffee", (12, 16)).astype(np.float32)
    image[0, :3] = [[0, 0, 0], [255, 255, 255], [90, 90, 90]]  # black, white, grey
    out = tp.hls_shift(tf.constant(image), tf.constant(offsets)).numpy()
    np.testing.assert_allclose(out, colorsys_hls_shift(image, offsets), atol=2e-3)
    if offsets == (0, 0, 0):
        np.testing.assert_allclose(out, image, atol=2e-3)
    else:
        assert np.abs(out - image).max() > 10.0


def test_hsl_offsets_are_mxnet_integers_within_the_limits():
    limits = (20, 40, 50)
    drawn = np.array([tp.hsl_offsets(seed(i), limits).numpy() for i in range(2000)])
    assert drawn.dtype == np.int32
    assert (np.abs(drawn) <= limits).all()
    # int() of a uniform in (-limit, limit) truncates toward zero: every integer in the open
    # range is drawn, and zero twice as often as its neighbours.
    for column, limit in zip(drawn.T, limits):
        assert set(column) == set(range(-limit + 1, limit))
    assert (drawn[:, 2] == 0).mean() > 1.3 * (drawn[:, 2] == 1).mean()


def test_eval_crop_is_exactly_the_numpy_centre_crop_when_no_resize_is_needed():
    # shorter side 256 = 224 / 0.875: resize is the identity, the crop is [16:240].
    image = photo("rocket", (256, 320))
    x = eval_preprocess(tf.constant(image), SPEC, 224).numpy()
    expected = preprocess_input(image[16:240, 48:272].astype(np.float32), "torch")
    np.testing.assert_allclose(x, expected, atol=1e-5)
    data = tf.io.encode_jpeg(image, quality=95)
    decoded = tf.io.decode_jpeg(data).numpy()
    y = eval_preprocess_jpeg(data, SPEC, 224).numpy()
    # decode_and_crop upsamples chroma at the crop edge from fewer neighbours: a few pixels
    # differ by up to 4 grey levels (4 / 255 / 0.225 = 0.07 after normalisation).
    ref = preprocess_input(decoded[16:240, 48:272].astype(np.float32), "torch")
    assert np.abs(y - ref).max() <= 0.08 and np.mean(np.abs(y - ref) > 1e-5) < 0.01


def test_eval_crop_matches_resize_then_crop_reference():
    image = photo("chelsea", (300, 451))
    x = eval_preprocess(tf.constant(image), SPEC, 112).numpy()
    # Reference: shorter side to 112 / 0.875 = 128, central 112 x 112 (the paper recipe).
    resized = tf.image.resize(image, (128, round(451 * 128 / 300))).numpy()
    top, left = (128 - 112) // 2, (resized.shape[1] - 112) // 2
    expected = preprocess_input(resized[top : top + 112, left : left + 112], "torch")
    # The crop side rounds 262.5 to 262 px: the sampling grids differ by under a pixel, a mean
    # of about 3.5 grey levels (0.06); a crop 2 px off centre gives 0.29.
    assert np.abs(x - expected).mean() < 0.08


def test_ten_crop_layout():
    image = photo("astronaut", (256, 288))
    crops = ten_crop(tf.constant(image), 224, 0.875).numpy()
    assert crops.shape == (10, 224, 224, 3)
    f = image.astype(np.float32)
    expected = [f[:224, :224], f[:224, 64:], f[32:, :224], f[32:, 64:], f[16:240, 32:256]]
    for i, e in enumerate(expected):
        np.testing.assert_allclose(crops[i], e, atol=1e-4)
        np.testing.assert_allclose(crops[i + 5], e[:, ::-1], atol=1e-4)


def test_every_step_name_a_record_may_give_has_its_operation():
    from keras_classics.records import augmentation

    assert set(tp.STEPS) == set(augmentation.STEPS)


def test_unknown_augmentation_names_value_and_choices():
    with pytest.raises(ValueError, match=r"augmentation='cutmix'.*'inception'"):
        tp.check_augmentation("cutmix")


def test_family_defaults():
    assert tp.default_augmentation(get_spec("alexnet")) == "alexnet"
    assert tp.default_augmentation(get_spec("vgg16")) == "vgg"
    assert tp.default_augmentation(get_spec("resnet50")) == "resnet"
    assert tp.default_augmentation(get_spec("resnext50_32x4d")) == "resnet"
    import dataclasses

    assert tp.default_augmentation(get_spec("googlenet")) == "inception"
    assert tp.default_augmentation(get_spec("inception_resnet_v2")) == "inception"
    assert tp.default_augmentation(get_spec("resnet20_cifar")) == "resnet"
    # A model whose family names no augmentation is refused, not given another paper's.
    with pytest.raises(ValueError, match=r"'newnet'.*names no augmentation.*'inception'"):
        tp.default_augmentation(dataclasses.replace(SPEC, family="newnet", augmentation=None))


@pytest.mark.parametrize("mode", ["torch", "caffe", "tf", "raw"])
def test_fused_normalize_equals_preprocess_input(mode):
    from keras_classics.layers.normalization import normalize

    image = photo("chelsea", (40, 56))
    for x in (image, image.astype(np.float32) + 0.25, np.stack([image, image[::-1]])):
        out = normalize(tf.constant(x), mode).numpy()
        assert out.dtype == np.float32 and out.shape == x.shape
        np.testing.assert_allclose(out, preprocess_input(x, mode), rtol=1e-6, atol=2e-5)


def test_flip_before_resize_equals_flip_after_resize():
    # augment flips the uint8 crop before resizing it: the bilinear grid is symmetric.
    crop = tf.constant(photo("astronaut", (173, 211)))
    before = tf.image.resize(crop[:, ::-1], [64, 64]).numpy()
    after = tf.image.resize(crop, [64, 64]).numpy()[:, ::-1]
    np.testing.assert_allclose(before, after, atol=1e-3)


def test_an_hsl_record_runs_its_limits_and_bad_limits_are_named():
    record = Augmentation("t", "test", "eval", after_resize=("hsl_jitter",), hsl=(0, 0, 50))
    (step,) = tp.steps(record).after_resize
    grey = tf.fill([4, 4, 3], 100.0)
    shifted = [step(grey, seed(i)).numpy() for i in range(20)]
    # lightness only: grey stays grey, shifted by at most 50 levels, not always by 0
    assert all(np.ptp(s, axis=-1).max() < 1e-3 for s in shifted)
    assert max(np.abs(s - 100.0).max() for s in shifted) > 5.0
    assert all(np.abs(s - 100.0).max() <= 50.0 + 1e-3 for s in shifted)
    for bad in [dict(hsl=(20, 40)), dict(hsl=(20, -1, 5)), dict(hsl=(1.5, 2, 3))]:
        with pytest.raises(ValueError, match=r"hsl=.* is invalid"):
            Augmentation("t", "test", "eval", after_resize=("hsl_jitter",), **bad)
    with pytest.raises(ValueError, match=r"hsl=\(1, 2, 3\) is invalid"):
        Augmentation("t", "test", "eval", hsl=(1, 2, 3))


def torch_color_jitter(image, factors, order):
    """fb.resnet.torch's ColorJitter (datasets/transforms.lua) in NumPy: blend(img, other, a) =
    a * img + (1 - a) * other, other black (brightness), the grey mean (contrast) or the grey
    image (saturation), grey = 0.299 R + 0.587 G + 0.114 B, in `order`."""
    x = image.astype(np.float64)
    for op in order:
        grey = (x @ np.array([0.299, 0.587, 0.114]))[..., None]
        other = [np.zeros_like(x), np.full_like(x, grey.mean()), np.broadcast_to(grey, x.shape)]
        x = factors[op] * x + (1.0 - factors[op]) * other[op]
    return x


def test_color_jitter_is_fb_resnet_torch_in_any_order():
    image = photo("astronaut", (10, 12)).astype(np.float32) * 0.8 + 20.0  # not clipped
    for i in range(5):
        factors = tp.color_jitter_factors(seed(i)).numpy()
        assert (np.abs(factors - 1.0) <= tp.JITTER).all() and np.ptp(factors) > 0.0
        out = tp.color_jitter(tf.constant(image), seed(i)).numpy()
        # fb.resnet.torch draws the order at random; every order gives these pixels
        for order in itertools.permutations(range(3)):
            expected = np.clip(torch_color_jitter(image, factors, order), 0.0, 255.0)
            np.testing.assert_allclose(out, expected, atol=1e-3)
        assert np.abs(out - image).max() > 1.0
