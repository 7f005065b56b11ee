"""TFLite float32 / float16 / dynamic / int8 against the Keras model they came from, for a
small CNN trained here on Fashion-MNIST at 32x32 (300 steps), on the whole test set.

Thresholds (docs/export.md): SavedModel and TFLite float32 within 1e-4 of Keras; float16 top-1
agreement >= 99% and int8 >= 97% with the float model on the 10,000 test images.

The model is small so that training and four runs over the test set stay within CI's time
(ResNet-18 took minutes here), and it is built from what the registry models quantise: the
package's GroupConv2D and LocalResponseNormalization (a float island between DEQUANTIZE and
QUANTIZE in int8), convolutions with BatchNorm folded in, a residual Add, max and average
pooling and a Dense layer ending in logits, as train/main.py builds them. Its input pipeline
is resnet18's (the "torch" preprocessing at 32x32).
"""

import time

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_classics
from export_helpers import assert_close
from keras_classics import export
from keras_classics.data import get_dataset
from keras_classics.export import tflite
from keras_classics.layers import GroupConv2D, LocalResponseNormalization

NAME, SIZE, STEPS, BATCH = "resnet18", 32, 300, 64
SPEC = keras_classics.get_spec(NAME)


def conv_bn(x, filters, name, stride=1, groups=1, relu=True):
    x = GroupConv2D(
        filters,
        3,
        strides=stride,
        padding="same",
        use_bias=False,
        groups=groups,
        name=f"{name}_conv",
    )(x)
    # momentum 0.9 as the registry's ResNets (PyTorch's 0.1): after a few hundred steps
    # Keras' default 0.99 leaves the moving statistics far behind the weights.
    x = keras.layers.BatchNormalization(epsilon=1e-5, momentum=0.9, name=f"{name}_bn")(x)
    return keras.layers.ReLU(name=f"{name}_relu")(x) if relu else x


def small_cnn(classes):
    """About 10,000 weights: stem, LRN, max pool, a grouped residual block, average pool."""
    inputs = keras.Input((SIZE, SIZE, 3))
    x = conv_bn(inputs, 16, "conv1", stride=2)
    x = LocalResponseNormalization(name="conv1_lrn")(x)
    x = keras.layers.MaxPooling2D(2, name="pool1")(x)
    x = conv_bn(x, 32, "conv2")
    y = conv_bn(conv_bn(x, 32, "conv3a", groups=4), 32, "conv3b", groups=4, relu=False)
    x = keras.layers.ReLU(name="conv3_out")(keras.layers.Add(name="conv3_add")([x, y]))
    x = keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
    outputs = keras.layers.Dense(classes, name="predictions")(x)
    return keras.Model(inputs, outputs, name="small_cnn")


@pytest.fixture(scope="module")
def trained():
    """(Keras model ending in logits, its Classifier, test images preprocessed by the
    pipeline, labels, Keras probabilities)."""
    keras.utils.set_random_seed(0)
    train, info = get_dataset(
        "fashion_mnist",
        "train",
        model=NAME,
        global_batch_size=BATCH,
        training=True,
        image_size=SIZE,
        seed=0,
        augmentation="none",
        normalize=True,  # a plain model, no InputNormalization in front
    )  # as train/main.py's short bundled run
    model = small_cnn(info.num_classes)
    model.compile(
        keras.optimizers.Adam(3e-3), keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    )
    start = time.perf_counter()
    # shuffle=False: the pipeline shuffles; Keras ignores shuffle for a Dataset, but warns
    # when it is True (its default).
    model.fit(train.repeat(), steps_per_epoch=STEPS, epochs=1, verbose=0, shuffle=False)
    print(
        f"\ntrained {model.name} for {STEPS} steps of {BATCH} in "
        f"{time.perf_counter() - start:.0f} s"
    )
    test, _ = get_dataset(
        "fashion_mnist",
        "test",
        model=NAME,
        global_batch_size=500,
        training=False,
        image_size=SIZE,
        deterministic=True,
        normalize=True,
    )
    batches = [(b.numpy(), lb.numpy()) for b, lb in test]  # one pass: images with labels
    x = np.concatenate([b for b, _ in batches])
    y = np.concatenate([lb for _, lb in batches])
    logits = model.predict(x, batch_size=500, verbose=0)
    probabilities = tf.nn.softmax(logits).numpy()
    # Fashion-MNIST is evaluated on the whole frame, so the export serves crop_ratio 1.
    classifier = export.Classifier(model, SPEC, info.class_names, crop_ratio=1.0)
    return model, classifier, x, y, probabilities


def agreement(runner, x, reference, batch=500):
    p = np.concatenate([runner(x[i : i + batch]) for i in range(0, len(x), batch)])
    return float(np.mean(p.argmax(1) == reference.argmax(1))), p


def weight_dtypes(runner):
    """The dtypes of the weights (second input) of every CONV_2D and FULLY_CONNECTED op."""
    interpreter = runner.interpreter
    tensors = {t["index"]: t for t in interpreter.get_tensor_details()}
    return {
        tensors[op["inputs"][1]]["dtype"]
        for op in interpreter._get_ops_details()
        if op["op_name"] in ("CONV_2D", "FULLY_CONNECTED")
    }


def test_model_learned_something(trained):
    _, _, _, y, p = trained
    accuracy = np.mean(p.argmax(1) == y)
    print(f"\nKeras top-1 on the Fashion-MNIST test set after {STEPS} steps: {accuracy:.4f}")
    # Else agreement would be measured on noise (chance: 0.1); seeds 0-2 gave 0.74-0.79.
    assert accuracy > 0.65


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
    print(
        f"\nTFLite float32 vs Keras, 2,000 test images: max |dp| {dp:.2e}, "
        f"max |dlog p| {dl:.2e}, top-1 agreement {top1:.4f}"
    )


def test_float16_agreement(trained):
    _, classifier, x, _, p = trained
    content = tflite.convert(classifier, "float16")
    tflite.check_builtin(content)
    top1, _ = agreement(tflite.Runner(content, num_threads=2), x, p)
    print(f"\nTFLite float16 top-1 agreement, 10,000 test images: {top1:.4f}")
    assert top1 >= 0.99


def test_dynamic_range_agreement(trained):
    _, classifier, x, _, p = trained
    top1, _ = agreement(
        tflite.Runner(tflite.convert(classifier, "dynamic"), num_threads=2), x[:2000], p[:2000]
    )
    print(f"\nTFLite dynamic-range top-1 agreement, 2,000 test images: {top1:.4f}")
    assert top1 >= 0.97


def test_int8_agreement(trained):
    _, classifier, x, y, p = trained
    calibration = tflite.representative_images(SPEC, SIZE, "fashion_mnist", steps=200)
    content = tflite.convert(classifier, "int8", calibration)
    tflite.check_builtin(content)
    runner = tflite.Runner(content, num_threads=2)
    assert runner.input["dtype"] == np.int8 and runner.output["dtype"] == np.int8
    assert weight_dtypes(runner) == {np.int8}
    top1, q = agreement(runner, x, p)
    print(
        f"\nTFLite int8 top-1 agreement, 10,000 test images: {top1:.4f}; int8 accuracy "
        f"{np.mean(q.argmax(1) == y):.4f} vs Keras {np.mean(p.argmax(1) == y):.4f}"
    )
    assert top1 >= 0.97


def test_int8_needs_representative_data(trained):
    with pytest.raises(ValueError, match="quantize='int8' needs representative_data"):
        tflite.convert(trained[1], "int8")
