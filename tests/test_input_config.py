"""The input record (keras_classics/records/input_config.py, InputConfig) against independent
references: the mean/std it implies, the evaluation resize by its interpolation, and its
refusals (the conversion rows' records against timm's: tests/convert/test_timm_records.py)."""

import numpy as np
import pytest
import tensorflow as tf

import keras_classics
from keras_classics import convert
from keras_classics.data import eval_preprocess
from keras_classics.records.input_config import InputConfig

# torchvision's and timm's documented constants (RGB, on [0, 1] pixels), keras.applications'
# caffe mean pixel (BGR, on [0, 255]).
IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
CAFFE_BGR_MEAN = (103.939, 116.779, 123.68)


@pytest.mark.parametrize(
    "mode,mean,std",
    [
        ("torch", IMAGENET_MEAN, IMAGENET_STD),
        ("tf", (0.5, 0.5, 0.5), (0.5, 0.5, 0.5)),
        ("caffe", tuple(v / 255 for v in CAFFE_BGR_MEAN[::-1]), (1 / 255,) * 3),
        ("raw", (0.0, 0.0, 0.0), (1 / 255,) * 3),
    ],
)
def test_mean_and_std_are_the_conventions_and_what_preprocess_input_applies(mode, mean, std):
    config = InputConfig(mode, 224)
    np.testing.assert_allclose(config.mean, mean, atol=1e-6)
    np.testing.assert_allclose(config.std, std, rtol=1e-5)
    x = np.random.default_rng(0).uniform(0, 255, (2, 4, 4, 3)).astype("float32")
    expected = (x / 255 - np.asarray(mean)) / np.asarray(std)
    if mode == "caffe":
        expected = expected[..., ::-1]  # keras.applications' caffe inputs are BGR
    np.testing.assert_allclose(
        keras_classics.preprocess_input(x, mode), expected, rtol=1e-4, atol=1e-3
    )


def test_eval_resize_uses_the_records_interpolation():
    """The same crop resized bicubically and bilinearly: eval_preprocess follows the record,
    checked against tf.image.resize of the whole (crop 1.0) image."""
    image = tf.constant(np.random.default_rng(1).integers(0, 256, (20, 20, 3)), tf.uint8)
    outs = {}
    for method in ("bilinear", "bicubic"):
        config = InputConfig("raw", 13, crop_ratio=1.0, interpolation=method)
        outs[method] = eval_preprocess(image, config).numpy()
        expected = tf.image.resize(tf.cast(image, tf.float32), [13, 13], method=method)
        np.testing.assert_allclose(outs[method], expected.numpy(), atol=1e-3)
    assert np.abs(outs["bicubic"] - outs["bilinear"]).max() > 1.0


@pytest.mark.parametrize(
    "fields,message",
    [
        (dict(mode="bgr", size=224), r"mode='bgr' is invalid; accepted: \('torch'"),
        (dict(mode="torch", size=0), r"size=0 is invalid; accepted: a positive integer"),
        (dict(mode="torch", size=224, crop_ratio=1.5), r"crop_ratio=1.5 is invalid"),
        (dict(mode="torch", size=224, interpolation="area"), r"interpolation='area' is invalid"),
    ],
)
def test_a_bad_field_is_refused_naming_it(fields, message):
    with pytest.raises(ValueError, match=message):
        InputConfig(**fields)


def test_every_spec_and_conversion_row_holds_a_record():
    for name in keras_classics.list_models():
        spec = keras_classics.get_spec(name)
        assert isinstance(spec.input, InputConfig)
        assert spec.input.size >= spec.min_size
    for source, names in convert.list_convertible().items():
        for name in names:
            assert isinstance(convert.get_conversion(source, name).input, InputConfig)
