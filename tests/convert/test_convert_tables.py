"""The conversion tables against the documented list (docs/convert.md), and the array
transforms on their own."""

import inspect

import keras
import numpy as np
import pytest

import keras_classics
from keras_classics import convert
from keras_classics.models.resnet import weights as resnet
from keras_classics.weights import keras_layout, torch_layout

# The documented list of source names (docs/convert.md).
DOCUMENTED = {
    "torchvision": {
        "alexnet",
        "vgg11",
        "vgg13",
        "vgg16",
        "vgg19",
        "vgg11_bn",
        "vgg13_bn",
        "vgg16_bn",
        "vgg19_bn",
        "googlenet",
        "inception_v3",
        "resnet18",
        "resnet34",
        "resnet50",
        "resnet101",
        "resnet152",
        "resnext50_32x4d",
        "resnext101_32x8d",
        "resnext101_64x4d",
        "densenet121",
        "densenet161",
        "densenet169",
        "densenet201",
        "mobilenet_v2",
        "mobilenet_v3_large",
        "mobilenet_v3_small",
        "mnasnet0_5",
        "mnasnet0_75",
        "mnasnet1_0",
        "mnasnet1_3",
        "shufflenet_v2_x0_5",
        "shufflenet_v2_x1_0",
        "shufflenet_v2_x1_5",
        "shufflenet_v2_x2_0",
        *(f"efficientnet_b{b}" for b in range(8)),
    },
    "timm": {
        "inception_v3",
        "inception_v4",
        "inception_resnet_v2",
        "resnext101_32x4d",
        "mobilenetv1_100",
        "dpn68",
        "dpn68b",
        "dpn92",
        "dpn98",
        "dpn107",
        "dpn131",
        *(f"dm_nfnet_f{k}" for k in range(7)),
        "nf_resnet50",
        *(f"tf_efficientnet_b{b}" for b in range(8)),
        *(f"tf_efficientnet_lite{n}" for n in range(5)),
        "seresnet50",
        "seresnext50_32x4d",
        "seresnext101_32x4d",
        "senet154",
        "semnasnet_100",
        "mnasnet_100",
        *(
            f"legacy_{name}"
            for name in (
                "seresnet50",
                "seresnet101",
                "seresnet152",
                "seresnext50_32x4d",
                "seresnext101_32x4d",
                "senet154",
            )
        ),
    },
    "keras.applications": {
        "ResNet50",
        "ResNet101",
        "ResNet152",
        "VGG16",
        "VGG19",
        "InceptionV3",
        "InceptionResNetV2",
        "DenseNet121",
        "DenseNet169",
        "DenseNet201",
        "MobileNet",
        "MobileNetV2",
        "MobileNetV3Large",
        "MobileNetV3Small",
        *(f"EfficientNetB{b}" for b in range(8)),
    },
}
# Rows beyond the documented list: a timm pretrained tag whose preprocessing differs.
TAGGED = {
    "timm": {
        "inception_v3.gluon_in1k",
        "dpn68b.mx_in1k",
        *(f"tf_efficientnet_b{b}.ap_in1k" for b in range(8)),
    }
}


def test_tables_cover_the_documented_list():
    convertible = {source: set(names) for source, names in convert.list_convertible().items()}
    assert convertible == {s: DOCUMENTED[s] | TAGGED.get(s, set()) for s in DOCUMENTED}


def test_every_row_names_a_registered_model_and_real_builder_options():
    for source, names in convert.list_convertible().items():
        for name in names:
            row = convert.get_conversion(source, name)
            spec = keras_classics.get_spec(row.model)
            options = inspect.signature(spec.builder).parameters
            assert set(row.builder_kwargs) <= set(options), (source, name)
            assert row.input.mode in keras_classics.records.input_config.MODES


def test_flattened_dense_kernel_reorders_nchw_to_nhwc():
    """torch flattens (c, h, w), Keras (h, w, c): the same features must meet the same
    weights."""
    rng = np.random.default_rng(0)
    c, h, w, units = 3, 2, 4, 5
    features_nchw = rng.standard_normal((c, h, w))
    weight = rng.standard_normal((units, c * h * w))
    torch_out = weight @ features_nchw.reshape(-1)
    kernel = torch_layout.flattened_dense_kernel((h, w, c))(weight)
    keras_out = features_nchw.transpose(1, 2, 0).reshape(-1) @ kernel
    np.testing.assert_allclose(keras_out, torch_out, rtol=1e-12)


def test_conv_bias_and_epsilon_fold_into_batchnorm():
    """keras.applications' conv(bias) + BN(eps 1.001e-5) equals our conv + BN(eps 1e-5)."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 5, 5, 3)).astype("float32")
    kernel = rng.standard_normal((3, 3, 3, 4)).astype("float32")
    bias, gamma, beta, mean = (rng.standard_normal(4).astype("float32") for _ in range(4))
    variance = rng.uniform(1e-4, 1e-3, 4).astype("float32")  # small: epsilon matters

    def net(use_bias, epsilon):
        inputs = keras.Input((5, 5, 3))
        y = keras.layers.Conv2D(4, 3, use_bias=use_bias, name="c")(inputs)
        y = keras.layers.BatchNormalization(epsilon=epsilon, name="b")(y)
        return keras.Model(inputs, y)

    source = net(True, resnet.KERAS_BN_EPSILON)
    source.get_layer("c").set_weights([kernel, bias])
    source.get_layer("b").set_weights([gamma, beta, mean, variance])
    ours = net(False, 1e-5)
    ours.get_layer("c").set_weights([kernel])
    ours.get_layer("b").set_weights(
        [
            gamma,
            beta,
            resnet.fold_conv_bias(mean, bias),
            resnet.fold_epsilon(variance),
        ]
    )
    expected = np.asarray(source(x, training=False))
    np.testing.assert_allclose(
        np.asarray(ours(x, training=False)), expected, rtol=1e-5, atol=1e-5 * np.abs(expected).max()
    )


def test_keras_weights_files_name_variables_by_layer(tmp_path):
    """Keras 3 .weights.h5 stores variables by position: names come back per layer kind."""
    model = keras.Sequential(
        [
            keras.Input((4, 4, 3)),
            keras.layers.Conv2D(2, 3, use_bias=False, name="conv"),
            keras.layers.BatchNormalization(scale=False, name="bn3"),
            keras.layers.BatchNormalization(name="bn4"),
            keras.layers.Flatten(name="flat"),
            keras.layers.Dense(2, name="fc"),
        ]
    )
    path = tmp_path / "small.weights.h5"
    model.save_weights(path)
    state = convert.read_checkpoint(path)
    assert sorted(state) == sorted(
        [
            "conv/kernel",
            "bn3/beta",
            "bn3/moving_mean",
            "bn3/moving_variance",
            "bn4/gamma",
            "bn4/beta",
            "bn4/moving_mean",
            "bn4/moving_variance",
            "fc/kernel",
            "fc/bias",
        ]
    )
    from_model = convert.read_checkpoint(model)  # a keras.Model as checkpoint: same names
    assert sorted(from_model) == sorted(state)
    for key, value in from_model.items():
        np.testing.assert_array_equal(state[key], value)


def test_timm_pretrained_tags_pick_the_architecture_row():
    assert convert.get_conversion("timm", "resnext101_32x4d.gluon_in1k") is convert.get_conversion(
        "timm", "resnext101_32x4d"
    )
    assert convert.get_conversion("timm", "inception_v3.tf_in1k") is convert.get_conversion(
        "timm", "inception_v3"
    )
    # timm's pretrained configs: gluon_in1k alone uses ImageNet mean/std.
    assert convert.get_conversion("timm", "inception_v3").input.mode == "tf"
    assert convert.get_conversion("timm", "inception_v3.gluon_in1k").input.mode == "torch"


def test_keras_auto_names_rank_by_creation_order():
    """Keras 3 names conv2d, conv2d_1, ...; Keras 2 files conv2d_1, ...; a later model in a
    session counts on (conv2d_95 ...): all rank the same, by the number, not as text."""
    arrays = [np.full(1, i, "float32") for i in range(11)]
    for first in (0, 1, 95):
        names = ["conv2d" if first + i == 0 else f"conv2d_{first + i}" for i in range(11)]
        state = {f"{n}/kernel": a for n, a in zip(names, arrays)}
        state["predictions/bias"] = np.zeros(2, "float32")
        ranked = keras_layout.rank_auto_named(state)
        assert set(ranked) == {f"conv2d#{i}/kernel" for i in range(11)} | {"predictions/bias"}
        assert all(ranked[f"conv2d#{i}/kernel"][0] == i for i in range(11))


def test_googlenet_aux_heads_are_not_converted():
    """torchvision's googlenet aux heads pool adaptively (ours: the paper's 5x5/3) and were
    never trained: aux_logits=True is refused before the checkpoint is read."""
    with pytest.raises(
        ValueError, match="aux_logits=True is invalid for torchvision 'googlenet'.*aux_logits=False"
    ):
        convert.from_torchvision("googlenet", "never-read.pth", aux_logits=True)


def test_weights_info_input_is_the_source_record_and_format_1_still_reads():
    """What export builds the serving graph from: the weights' input record (preprocessing,
    size, crop, interpolation), not the registry's (which stays as it is). A file written
    before the record existed (format 1, flat fields) reads as the same record."""
    from keras_classics.records.input_config import InputConfig

    row = convert.get_conversion("timm", "inception_v3.gluon_in1k")
    assert row.input == InputConfig("torch", 299, 0.875, "bicubic")
    info = convert.WeightsInfo(
        model="inception_v3",
        builder_kwargs={},
        input=row.input,
        source="timm",
        source_model=row.name,
    )
    assert convert.WeightsInfo.from_json(info.to_json(), "f.weights.h5") == info
    old = (
        '{"model": "inception_v3", "builder_kwargs": {}, "preprocessing": "torch", '
        '"input_size": 299, "crop_ratio": 0.875, "source": "timm", '
        '"source_model": "inception_v3.gluon_in1k", "format": 1}'
    )
    assert convert.WeightsInfo.from_json(old, "f.weights.h5").input == InputConfig(
        "torch", 299, 0.875, "bilinear"
    )
    assert keras_classics.get_spec("inception_v3").input == InputConfig("tf", 299)
