"""TFLite float32 / float16 / dynamic / int8 against the Keras model they came from, for a
ResNet-18 trained here on Fashion-MNIST at 32x32 (a few hundred steps), on the test set.

Thresholds from issue 6: SavedModel and TFLite float32 within 1e-4 of Keras; float16 top-1
agreement >= 99% and int8 >= 97% with the float model on the 10,000 test images.
"""

import time

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_classics
from keras_classics import export
from keras_classics.data import get_dataset
from keras_classics.export import tflite

from export_helpers import assert_close

NAME, SIZE, STEPS, BATCH = "resnet18", 32, 200, 64
SPEC = keras_classics.get_spec(NAME)


@pytest.fixture(scope="module")
def trained():
    """(Keras model ending in logits as train/main.py builds it, its Classifier, test images
    preprocessed by the pipeline, labels, Keras probabilities)."""
    keras.utils.set_random_seed(0)
    train, info = get_dataset("fashion_mnist", "train", model=NAME, global_batch_size=BATCH,
                              training=True, image_size=SIZE, seed=0)
    model = SPEC.build(classes=info.num_classes, classifier_activation=None,
                       input_shape=(SIZE, SIZE, 3))
    model.compile(keras.optimizers.Adam(1e-3),
                  keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    start = time.perf_counter()
    model.fit(train.repeat(), steps_per_epoch=STEPS, epochs=1, verbose=0)
    print(f"\ntrained {NAME} for {STEPS} steps of {BATCH} in {time.perf_counter() - start:.0f} s")
    test, _ = get_dataset("fashion_mnist", "test", model=NAME, global_batch_size=500,
                          training=False, image_size=SIZE, deterministic=True)
    batches = [(b.numpy(), lb.numpy()) for b, lb in test]  # one pass: images with labels
    x = np.concatenate([b for b, _ in batches])
    y = np.concatenate([lb for _, lb in batches])
    logits = model.predict(x, batch_size=500, verbose=0)
    probabilities = tf.nn.softmax(logits).numpy()
    # Fashion-MNIST is evaluated on the whole frame, so the export serves crop_ratio 1.
    classifier = export.Classifier(model, SPEC, info.class_names, crop_ratio=1.0)
    return model, classifier, x, y, probabilities


def agreement(runner, x, reference, batch=500):
    p = np.concatenate([runner(x[i:i + batch]) for i in range(0, len(x), batch)])
    return float(np.mean(p.argmax(1) == reference.argmax(1))), p


def test_model_learned_something(trained):
    _, _, _, y, p = trained
    accuracy = np.mean(p.argmax(1) == y)
    print(f"\nKeras top-1 on the Fashion-MNIST test set after {STEPS} steps: {accuracy:.4f}")
    assert accuracy > 0.75  # else agreement would be measured on noise


def test_saved_model_matches_keras_on_test_images(trained, tmp_path):
    _, classifier, x, _, p = trained
    path = export.saved_model.write(classifier, str(tmp_path))
    fn = tf.saved_model.load(path).signatures["serving_default"]
    # The raw test images (grey 28x28 as RGB, 0-255): the graph resizes and normalises them
    # as the pipeline did for `x` (deterministic order: the first 500 are the same images).
    images, _ = keras_classics.data.sources.fashion_mnist.load_arrays("test")
    rgb = np.repeat(images[:500, :, :, None], 3, axis=3).astype(np.float32)
    out = fn(images=tf.constant(rgb))
    dp, dl = assert_close(out["probabilities"].numpy(), p[:500])
    print(f"\nSavedModel vs Keras, 500 test images: max |dp| {dp:.2e}, max |dlog p| {dl:.2e}")
    names = [n.decode() for n in out["top_k_names"].numpy()[:, 0]]
    assert names == [classifier.class_names[i] for i in p[:500].argmax(1)]


def test_tflite_float32_matches_keras(trained):
    _, classifier, x, _, p = trained
    runner = tflite.Runner(tflite.convert(classifier, "none"), num_threads=2)
    top1, q = agreement(runner, x[:2000], p[:2000])
    dp, dl = assert_close(q, p[:2000])
    print(f"\nTFLite float32 vs Keras, 2,000 test images: max |dp| {dp:.2e}, "
          f"max |dlog p| {dl:.2e}, top-1 agreement {top1:.4f}")


def test_float16_agreement(trained):
    _, classifier, x, _, p = trained
    content = tflite.convert(classifier, "float16")
    tflite.check_builtin(content)
    top1, _ = agreement(tflite.Runner(content, num_threads=2), x, p)
    print(f"\nTFLite float16 top-1 agreement, 10,000 test images: {top1:.4f}")
    assert top1 >= 0.99


def test_dynamic_range_agreement(trained):
    _, classifier, x, _, p = trained
    top1, _ = agreement(tflite.Runner(tflite.convert(classifier, "dynamic"), num_threads=2),
                        x[:2000], p[:2000])
    print(f"\nTFLite dynamic-range top-1 agreement, 2,000 test images: {top1:.4f}")
    assert top1 >= 0.97


def test_int8_agreement(trained):
    model, classifier, x, y, p = trained
    calibration = tflite.representative_images(SPEC, SIZE, "fashion_mnist", steps=200)
    content = tflite.convert(classifier, "int8", calibration)
    tflite.check_builtin(content)
    runner = tflite.Runner(content, num_threads=2)
    assert runner.input["dtype"] == np.int8 and runner.output["dtype"] == np.int8
    assert len(content) < 0.3 * 4 * model.count_params()  # int8 weights, not float32
    top1, q = agreement(runner, x, p)
    print(f"\nTFLite int8 top-1 agreement, 10,000 test images: {top1:.4f}; int8 accuracy "
          f"{np.mean(q.argmax(1) == y):.4f} vs Keras {np.mean(p.argmax(1) == y):.4f}")
    assert top1 >= 0.97


def test_int8_needs_representative_data(trained):
    with pytest.raises(ValueError, match="quantize='int8' needs representative_data"):
        tflite.convert(trained[1], "int8")
