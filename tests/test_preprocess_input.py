"""preprocess_input per convention and the bundled, offline decode_predictions."""

import numpy as np
import pytest
import tensorflow as tf

import keras_classics
from keras_classics.records.imagenet import class_index


def test_torch_mode_is_imagenet_mean_std():
    x = np.full((1, 2, 2, 3), [255, 0, 128], dtype=np.uint8)
    out = keras_classics.preprocess_input(x, mode="torch")
    expected = (np.array([1.0, 0.0, 128 / 255]) - [0.485, 0.456, 0.406]) / [0.229, 0.224, 0.225]
    np.testing.assert_allclose(out[0, 0, 0], expected, rtol=1e-6)
    assert out.dtype == np.float32 and isinstance(out, np.ndarray)


def test_caffe_mode_swaps_to_bgr_and_subtracts_the_mean_pixel():
    x = np.array([[[[10.0, 20.0, 30.0]]]])
    out = keras_classics.preprocess_input(x, mode="caffe")
    np.testing.assert_allclose(out[0, 0, 0], [30 - 103.939, 20 - 116.779, 10 - 123.68], rtol=1e-6)


def test_tf_mode_maps_to_minus_one_one_and_accepts_tensors():
    out = keras_classics.preprocess_input(tf.constant([[[[0, 127.5, 255]]]]), mode="tf")
    assert isinstance(out, tf.Tensor)
    np.testing.assert_allclose(out.numpy()[0, 0, 0], [-1, 0, 1], atol=1e-6)


def test_model_name_stands_for_its_mode():
    x = np.random.default_rng(0).uniform(0, 255, (1, 4, 4, 3))
    np.testing.assert_array_equal(
        keras_classics.preprocess_input(x, mode="resnet50"),
        keras_classics.preprocess_input(x, mode="torch"),
    )


@pytest.mark.parametrize("mode", ["bgr", "inception_v9"])
def test_unknown_mode(mode):
    with pytest.raises(ValueError, match=f"mode='{mode}' is invalid"):
        keras_classics.preprocess_input(np.zeros((1, 2, 2, 3)), mode=mode)


def test_wrong_channel_count():
    with pytest.raises(ValueError, match="4 channels"):
        keras_classics.preprocess_input(np.zeros((1, 2, 2, 4)), mode="torch")


def test_class_index_is_the_standard_imagenet_order():
    index = class_index()
    assert len(index) == 1000 and len({w for w, _ in index}) == 1000
    wnids = [w for w, _ in index]
    assert wnids == sorted(wnids)  # ILSVRC class order is sorted WordNet ids
    # Well-known positions of the ILSVRC-2012 index.
    assert index[0] == ("n01440764", "tench")
    assert index[1] == ("n01443537", "goldfish")
    assert index[207] == ("n02099601", "Golden Retriever")
    assert index[999][0] == "n15075141"


def test_decode_predictions_orders_scores():
    preds = np.zeros((2, 1000), dtype=np.float32)
    preds[0, [1, 207, 5]] = [0.5, 0.3, 0.2]
    preds[1, 999] = 1.0
    decoded = keras_classics.decode_predictions(preds, top=3)
    assert [d[0] for d in decoded[0]] == ["n01443537", "n02099601", "n01496331"]
    assert decoded[0][0][1:] == ("goldfish", 0.5)
    assert decoded[1][0][0] == "n15075141" and len(decoded[1]) == 3


def test_decode_predictions_with_own_class_names():
    decoded = keras_classics.decode_predictions(
        np.array([[0.1, 0.7, 0.2]]), top=2, class_names=["cat", "dog", "emu"]
    )
    assert decoded == [[("dog", "dog", 0.7), ("emu", "emu", 0.2)]]


@pytest.mark.parametrize(
    "preds,top,pattern",
    [
        (np.zeros((2, 10)), 5, r"shape \(2, 10\).*\(samples, 1000\)"),
        (np.zeros((1, 1000)), 0, r"top=0 .*\[1, 1000\]"),
    ],
)
def test_decode_predictions_bad_input(preds, top, pattern):
    with pytest.raises(ValueError, match=pattern):
        keras_classics.decode_predictions(preds, top=top)
