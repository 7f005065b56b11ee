"""Logit parity of every keras.applications conversion (needs no torch).

keras.applications models are built with weights=None (nothing is downloaded), their biases,
BN parameters and moving statistics randomised (Keras inits them to constants), and their
weights handed over in each form a user has them in: the legacy .h5 layout keras.applications
publishes, Keras 3's .weights.h5, a full-model .h5 (model.save), or the model itself. Both
models see the same random RGB images, the source prepared by keras.applications' own
preprocess_input, ours by the row's preprocessing mode (which this checks too).
"""

import h5py
import keras
import numpy as np
import pytest

from convert_parity import assert_parity, ours, randomise_keras, rgb_images
from keras_classics import convert, preprocess_input

# name -> (input size, include_top, how the weights are passed, keras.applications module
# with the model's preprocess_input). ResNets compare logits at 64x64, the Inception nets at
# 75 (their minimum); VGG's Flatten head needs 224, so VGG16 compares logits there and VGG19
# its features.
CASES = {
    "ResNet50": (64, True, "full_model_h5", "resnet"),
    "ResNet101": (64, True, "weights_h5", "resnet"),
    "ResNet152": (64, True, "model", "resnet"),
    "VGG16": (224, True, "model", "vgg16"),
    "VGG19": (32, False, "published_h5", "vgg19"),
    "InceptionV3": (75, True, "published_h5", "inception_v3"),
    "InceptionResNetV2": (75, True, "weights_h5", "inception_resnet_v2"),
    "DenseNet121": (64, True, "published_h5", "densenet"),
    "DenseNet169": (64, True, "weights_h5", "densenet"),
    "DenseNet201": (64, False, "model", "densenet"),
    # MobileNetV3 keeps keras.applications' default include_preprocessing=True (its Rescaling
    # layer inside the model; its preprocess_input passes images through): ours takes the
    # row's "tf" preprocessing outside instead. MobileNet's published Keras 2 layout names its
    # depthwise kernels "depthwise_kernel".
    "MobileNet": (64, True, "published_h5", "mobilenet"),
    "MobileNetV2": (64, True, "weights_h5", "mobilenet_v2"),
    "MobileNetV3Large": (64, True, "model", "mobilenet_v3"),
    "MobileNetV3Small": (64, True, "full_model_h5", "mobilenet_v3"),
    # EfficientNet normalises inside the model (Rescaling 1/255, Normalization; its
    # preprocess_input passes images through): check_parity sets the Normalization to the
    # ImageNet mean and variance std**2, what the published files' mean and std (stored as the
    # variance) and the builder's 1/sqrt(std) Rescaling amount to with weights="imagenet"
    # (tensorflow/tensorflow#49930); ours takes the row's "torch" preprocessing outside.
    "EfficientNetB0": (64, True, "published_h5", "efficientnet"),
    "EfficientNetB1": (64, True, "weights_h5", "efficientnet"),
    "EfficientNetB2": (64, True, "model", "efficientnet"),
    "EfficientNetB3": (64, False, "full_model_h5", "efficientnet"),
    "EfficientNetB4": (64, True, "published_h5", "efficientnet"),
    "EfficientNetB5": (64, True, "model", "efficientnet"),
    "EfficientNetB6": (64, True, "model", "efficientnet"),
    "EfficientNetB7": (64, True, "model", "efficientnet"),
}
# keras.applications' other published MobileNet widths (weights/cards: a file per alpha and
# minimalistic), converted into ours built with the same options.
OPTIONS = [
    ("MobileNet", dict(alpha=0.25)),
    ("MobileNetV2", dict(alpha=1.4)),
    ("MobileNetV3Small", dict(alpha=0.75)),
    ("MobileNetV3Large", dict(minimalistic=True)),
]
SLOW = {
    "ResNet101",
    "ResNet152",
    "VGG16",
    "InceptionResNetV2",
    "DenseNet169",
    "DenseNet201",
    "EfficientNetB4",
    "EfficientNetB5",
    "EfficientNetB6",
    "EfficientNetB7",
}
# ImageNet's mean and std (keras.applications' efficientnet IMAGENET_STDDEV_RGB and mean).
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def test_every_row_has_a_case():
    assert set(CASES) == set(convert.conversions("keras.applications"))


def write_published_layout(model, path):
    """The layout of keras.applications' downloadable files (Keras 2 save_weights): root
    attribute layer_names, per layer weight_names "layer/variable:0"."""
    with h5py.File(path, "w") as f:
        layers = [layer for layer in model.layers]
        f.attrs["layer_names"] = [layer.name.encode("utf8") for layer in layers]
        f.attrs["backend"] = b"tensorflow"
        for layer in layers:
            group = f.create_group(layer.name)
            # Keras 2 named a depthwise kernel "depthwise_kernel" (Keras 3: "kernel").
            kernel = (
                "depthwise_kernel" if isinstance(layer, keras.layers.DepthwiseConv2D) else "kernel"
            )
            names = [
                f"{layer.name}/{kernel if v.name == 'kernel' else v.name}:0" for v in layer.weights
            ]
            group.attrs["weight_names"] = [n.encode("utf8") for n in names]
            for name, variable in zip(names, layer.weights):
                group.create_dataset(name, data=variable.numpy())


def as_checkpoint(model, form, tmp_path):
    if form == "model":
        return model
    if form == "weights_h5":
        path = tmp_path / "source.weights.h5"
        model.save_weights(path)
        return path
    if form == "full_model_h5":
        path = tmp_path / "source.h5"
        model.save(path)
        return path
    path = tmp_path / "source.h5"
    write_published_layout(model, path)
    return str(path)


@pytest.mark.parametrize(
    "name", [pytest.param(n, marks=pytest.mark.slow) if n in SLOW else n for n in CASES]
)
def test_keras_applications_parity(name, tmp_path):
    check_parity(name, {}, tmp_path)


@pytest.mark.parametrize(
    "name, options",
    [pytest.param(n, o, id="-".join([n, *(f"{k}={v}" for k, v in o.items())])) for n, o in OPTIONS],
)
def test_keras_applications_parity_of_other_widths(name, options, tmp_path):
    model = check_parity(name, options, tmp_path)
    for key, value in options.items():
        assert model.builder_options[key] == value


def check_parity(name, options, tmp_path):
    """Ours converted from keras.applications' `name` built with `options` (random weights,
    randomised BN statistics) gives its logits (or features); returns our model."""
    size, include_top, form, module = CASES[name]
    keras.utils.set_random_seed(0)
    build = getattr(keras.applications, name)
    top = dict(classifier_activation=None) if include_top else {}
    source = randomise_keras(
        build(weights=None, include_top=include_top, input_shape=(size, size, 3), **top, **options)
    )
    if module == "efficientnet":
        normalization = next(
            layer for layer in source.layers if isinstance(layer, keras.layers.Normalization)
        )
        normalization.set_weights([np.array(IMAGENET_MEAN), np.square(IMAGENET_STD), np.array(0)])
        normalization.finalize_state()  # as its load_own_variables does after loading
    images = rgb_images(size, seed=3)
    # keras.applications' caffe preprocessing works in place: give it a copy.
    reference = ours(source, getattr(keras.applications, module).preprocess_input(images.copy()))
    model = convert.from_keras_applications(
        name,
        as_checkpoint(source, form, tmp_path),
        include_top=include_top,
        input_shape=(size, size, 3),
        **top,
        **options,
    )
    x = preprocess_input(images, convert.get_conversion("keras.applications", name).input.mode)
    what = (
        f"keras.applications {name}{options or ''} "
        f"({'logits' if include_top else 'features'} at {size}, {form})"
    )
    assert_parity(ours(model, x), reference, what)
    if name.startswith("ResNet"):  # the conv biases went into the BN means (see fold tests)
        assert not any(
            getattr(layer, "use_bias", False)
            for layer in model.layers
            if layer.name.endswith("_conv")
        )
    return model
