"""Serving signatures: softmax only when the model ends in logits, class names, eval
preprocessing inside the graph, top-k outputs, and bad image bytes as InvalidArgument."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_classics
from export_helpers import (
    assert_close,
    keras_probabilities,
    preprocess_bytes,
    preprocess_pixels,
    spec_with,
    tiny_classifier,
)
from keras_classics import export
from keras_classics.export.signatures import Classifier, class_names_for, outputs_probabilities

SPEC = keras_classics.get_spec("resnet18")


def test_output_activation_is_read_from_the_model():
    assert outputs_probabilities(tiny_classifier(activation="softmax"))
    assert not outputs_probabilities(tiny_classifier(activation=None))
    assert not outputs_probabilities(
        keras_classics.get_model(
            "resnet18", classes=10, classifier_activation=None, input_shape=(32, 32, 3)
        )
    )
    assert outputs_probabilities(
        keras_classics.get_model("resnet18", classes=10, input_shape=(32, 32, 3))
    )
    inputs = keras.Input((4,))
    softmax_layer = keras.Model(inputs, keras.layers.Softmax()(keras.layers.Dense(3)(inputs)))
    assert outputs_probabilities(softmax_layer)
    with pytest.raises(ValueError, match="activation='sigmoid'.*accepted: .*softmax"):
        outputs_probabilities(tiny_classifier(activation="sigmoid"))


def test_class_names():
    imagenet = class_names_for(1000)
    assert imagenet[281] == keras_classics.records.imagenet.class_index()[281][1]
    assert len(set(imagenet)) > 990
    assert class_names_for(3, ["a", "b", "c"]) == ["a", "b", "c"]
    assert class_names_for(3) == ["0", "1", "2"]
    with pytest.raises(
        ValueError,
        match="class_names has 2 names; accepted: one per class "
        r"of the model \(3\)",
    ):
        class_names_for(3, ["a", "b"])


def test_classifier_refusals():
    with pytest.raises(ValueError, match=r"outputs shape \(None, 1, 1, 512\).*classifier"):
        Classifier(
            keras_classics.get_model("resnet18", include_top=False, input_shape=(32, 32, 3)), SPEC
        )
    with pytest.raises(ValueError, match="image_size=64 does not match the model's input 32x32"):
        Classifier(tiny_classifier(), SPEC, image_size=64)
    with pytest.raises(ValueError, match="crop_ratio=1.5 is invalid"):
        Classifier(tiny_classifier(), SPEC, crop_ratio=1.5)
    with pytest.raises(TypeError, match="accepted: a keras.Model"):
        Classifier("resnet18", SPEC)
    # A model without a fixed input size serves at the spec's default.
    assert Classifier(keras_classics.get_model("resnet18", classes=10), SPEC).image_size == 224


def test_auxiliary_heads_are_not_served():
    # GoogLeNet's auxiliary classifiers need its 224x224 input; the export serves the main head.
    model = keras_classics.get_model(
        "googlenet", aux_logits=True, classes=10, classifier_activation=None
    )
    classifier = Classifier(model, keras_classics.get_spec("googlenet"))
    assert model.output_names == ["predictions", "aux1_predictions", "aux2_predictions"]
    assert classifier.model.outputs == [model.outputs[0]]
    assert (classifier.image_size, classifier.num_classes) == (224, 10)


@pytest.fixture(scope="module")
def logits_and_softmax(tmp_path_factory):
    """The same weights exported twice: ending in logits and ending in softmax (a small
    model: what is tested here is the graph around it, the same for every model)."""
    root = tmp_path_factory.mktemp("sig")
    logits = tiny_classifier(activation=None, size=48)
    softmax = tiny_classifier(activation="softmax", size=48)
    softmax.set_weights(logits.get_weights())
    names = [f"class {i}" for i in range(10)]
    paths = {
        kind: export.export_model(m, SPEC, output_dir=str(root), name=kind, class_names=names)
        for kind, m in (("logits", logits), ("softmax", softmax))
    }
    return logits, {k: tf.saved_model.load(p).signatures for k, p in paths.items()}, names


def test_softmax_applied_only_to_logits(logits_and_softmax, photos):
    logits, loaded, _ = logits_and_softmax
    images = tf.constant(photos["astronaut"][None].astype(np.float32))
    p_logits = loaded["logits"]["serving_default"](images=images)["probabilities"].numpy()
    p_softmax = loaded["softmax"]["serving_default"](images=images)["probabilities"].numpy()
    np.testing.assert_allclose(p_logits.sum(axis=1), 1.0, atol=1e-5)
    assert_close(p_logits, p_softmax, tol=1e-6)  # not softmax(softmax(x))
    expected = keras_probabilities(logits, preprocess_pixels(photos["astronaut"][None], SPEC, 48))
    assert_close(p_logits, expected)


def test_serving_default_takes_any_size(logits_and_softmax, photos):
    logits, loaded, _ = logits_and_softmax
    fn = loaded["logits"]["serving_default"]
    for name in ("chelsea", "coffee", "rocket"):  # landscape photos, various sizes
        for image in (photos[name], photos[name].transpose(1, 0, 2)):  # and portrait
            out = fn(images=tf.constant(image[None].astype(np.float32)))
            expected = keras_probabilities(logits, preprocess_pixels(image[None], SPEC, 48))
            assert_close(out["probabilities"].numpy(), expected)
    tiny = np.full((1, 5, 7, 3), 128, np.float32)  # smaller than the model's input
    assert fn(images=tf.constant(tiny))["probabilities"].shape == (1, 10)
    assert fn(images=tf.zeros([0, 5, 7, 3]))["top_k_names"].shape == (0, 5)  # empty request


def test_serving_default_rounds_and_clips_like_decoded_pixels(logits_and_softmax, photos):
    _, loaded, _ = logits_and_softmax
    fn = loaded["logits"]["serving_default"]
    image = photos["chelsea"][None].astype(np.float32)
    noisy = np.clip(image + np.random.RandomState(0).uniform(-0.49, 0.49, image.shape), 0, 255)
    outside = image.copy()
    outside[..., 0] = np.where(image[..., 0] == 255, 300, image[..., 0])
    outside[..., 1] = np.where(image[..., 1] == 0, -20, image[..., 1])
    reference = fn(images=tf.constant(image))["probabilities"].numpy()
    for variant in (noisy, outside):
        np.testing.assert_array_equal(
            fn(images=tf.constant(variant.astype(np.float32)))["probabilities"].numpy(), reference
        )


def test_serving_bytes_matches_eval_pipeline_and_top_k(logits_and_softmax, encoded):
    logits, loaded, names = logits_and_softmax
    data = [b for _, b in encoded]  # JPEGs of several sizes and a PNG, one batch
    out = loaded["logits"]["serving_bytes"](image_bytes=tf.constant(data))
    expected = keras_probabilities(logits, preprocess_bytes(data, SPEC, 48))
    p = out["probabilities"].numpy()
    assert_close(p, expected)
    order = np.argsort(-expected, axis=1)[:, :5]
    classes = out["top_k_classes"].numpy()
    assert out["top_k_classes"].dtype == tf.int32
    np.testing.assert_array_equal(classes, order)
    np.testing.assert_allclose(
        out["top_k_scores"].numpy(), np.take_along_axis(p, classes, axis=1), rtol=0, atol=0
    )
    assert [[n.decode() for n in row] for row in out["top_k_names"].numpy()] == [
        [names[i] for i in row] for row in classes
    ]
    empty = loaded["logits"]["serving_bytes"](image_bytes=tf.constant([], tf.string))
    assert empty["probabilities"].shape == (0, 10)


def _corrupt(jpeg, png):
    return {
        "empty": b"",
        "text": b"this is not an image",
        "truncated JPEG": jpeg[: len(jpeg) // 2],
        "truncated PNG": png[: len(png) // 2],
        "JPEG header only": jpeg[:600] + b"\xff\xd9",
    }


def test_malformed_bytes_are_invalid_argument(logits_and_softmax, encoded):
    _, loaded, _ = logits_and_softmax
    fn = loaded["logits"]["serving_bytes"]
    jpeg = encoded[0][1]
    png = [b for f, b in encoded if f == "png"][0]
    for data in _corrupt(jpeg, png).values():
        with pytest.raises(tf.errors.InvalidArgumentError):
            fn(image_bytes=tf.constant([jpeg, data]))
    # The process and the signature still work afterwards.
    assert fn(image_bytes=tf.constant([jpeg]))["probabilities"].shape == (1, 10)


def test_bad_bytes_name_the_reason(logits_and_softmax):
    fn = logits_and_softmax[1]["logits"]["serving_bytes"]
    with pytest.raises(tf.errors.InvalidArgumentError, match="not a JPEG, PNG, GIF or BMP"):
        fn(image_bytes=tf.constant([b"this is not an image"]))
    with pytest.raises(tf.errors.InvalidArgumentError, match="empty image data"):
        fn(image_bytes=tf.constant([b""]))


def test_crop_ratio_override_is_served(tmp_path, photos):
    # Fashion-MNIST runs are evaluated on the whole frame (crop_ratio 1).
    model = tiny_classifier(size=32)
    path = export.export_model(model, SPEC, output_dir=str(tmp_path), crop_ratio=1.0)
    fn = tf.saved_model.load(path).signatures["serving_default"]
    image = photos["coffee"][None]
    expected = keras_probabilities(model, preprocess_pixels(image, SPEC, 32, crop_ratio=1.0))
    default = keras_probabilities(model, preprocess_pixels(image, SPEC, 32))
    got = fn(images=tf.constant(image.astype(np.float32)))["probabilities"].numpy()
    assert_close(got, expected)
    assert np.abs(got - default).max() > 1e-4  # the crop does matter for this photo


def test_caffe_mode_model_is_served_with_its_preprocessing(tmp_path, photos):
    spec = spec_with(
        "resnet18", input=keras_classics.get_spec("resnet18").input.replace(mode="caffe")
    )
    model = tiny_classifier(size=32)
    path = export.export_model(model, spec, output_dir=str(tmp_path))
    fn = tf.saved_model.load(path).signatures["serving_default"]
    image = photos["chelsea"][None]
    assert_close(
        fn(images=tf.constant(image.astype(np.float32)))["probabilities"].numpy(),
        keras_probabilities(model, preprocess_pixels(image, spec, 32)),
    )
