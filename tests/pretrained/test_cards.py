"""The weight cards against their upstreams' own metadata, and the names that find them.

torchvision's Weights enums, timm's pretrained_cfg and keras.applications' source are the
independent references (the parity extra installs torch, torchvision and timm; Keras is a
dependency). A card that disagrees with its upstream fails here.
"""

import functools
import inspect
import os
import re
import sys
from unittest import mock

import pytest

import keras_classics
from keras_classics import convert, pretrained
from keras_classics.records import download
from keras_classics.weights.cards import resolve

sys.modules.setdefault("triton", None)  # torchvision after TensorFlow (tests/convert)

CARDS = list(pretrained.CARDS.values())


def by_source(source):
    return [pytest.param(c, id=c.name) for c in CARDS if c.source == source]


def test_every_convertible_model_has_a_card_and_every_card_a_conversion():
    convertible = convert.list_convertible().items()
    rows = {(source, name) for source, names in convertible for name in names}
    used = {(card.row.source, card.row.name) for card in CARDS}
    assert used == rows  # timm's inception_v3 row serves its tv/tf/tf_adv tags
    for card in CARDS:
        assert card.row.model == card.model
        keras_classics.get_spec(card.model)  # registered
    models = {convert.get_conversion(*row).model for row in rows}
    assert set(keras_classics.list_models(pretrained=True)) == models
    assert len(models) == 71


@pytest.mark.parametrize("card", by_source("torchvision"))
def test_torchvision_cards_match_the_weights_enums(card):
    torchvision = pytest.importorskip("torchvision")
    weights = torchvision.models.get_model_weights(card.model)[card.tag]
    meta = weights.meta
    assert card.url == weights.url
    metrics = meta["_metrics"]["ImageNet-1K"]
    assert (card.top1, card.top5) == (metrics["acc@1"], metrics["acc@5"])
    assert card.params == meta["num_params"]
    assert card.gmacs == meta["_ops"]
    assert card.size_mb == meta["_file_size"]
    assert card.recipe == meta["recipe"]
    transform = weights.transforms()
    assert card.input.size == transform.crop_size[0]
    assert card.input.crop_ratio == pytest.approx(transform.crop_size[0] / transform.resize_size[0])
    assert card.input.interpolation == transform.interpolation.value
    # torch.hub's hash check: the digits after the file name's last "-".
    assert card.hashes == {"sha256": re.search(r"-([a-f0-9]+)\.", card.url)[1]}


def test_every_torchvision_classifier_weight_has_a_card():
    torchvision = pytest.importorskip("torchvision")
    expected = {
        f"{row.model}:torchvision:{w.name}"
        for row in convert.conversions("torchvision").values()
        for w in torchvision.models.get_model_weights(row.name)
        if w.name != "IMAGENET1K_FEATURES"  # VGG-16 without a trained classifier
    }
    assert {c.name for c in CARDS if c.source == "torchvision"} == expected


@pytest.mark.parametrize("card", by_source("timm"))
def test_timm_cards_match_the_pretrained_cfg(card):
    timm = pytest.importorskip("timm")
    cfg = timm.models.get_pretrained_cfg(card.tag)
    # The hub's file, or the release URL where the pretrained_cfg has no hub id (legacy_*).
    hub = f"https://huggingface.co/{cfg.hf_hub_id}/resolve/main/model.safetensors"
    assert card.url == (hub if cfg.hf_hub_id else cfg.url)
    assert (card.input.size, card.input.size) == tuple(cfg.input_size[1:])
    assert card.input.crop_ratio == cfg.crop_pct
    assert card.input.interpolation == cfg.interpolation
    assert card.input.mean == pytest.approx(cfg.mean) and card.input.std == pytest.approx(cfg.std)
    assert card.license == cfg.license
    torch = pytest.importorskip("torch")
    # On the meta device the parameters have shapes and no storage: nothing is initialised
    # (dm_nfnet_f6's 438M weights are not drawn).
    with torch.device("meta"):
        model = timm.create_model(card.tag, pretrained=False)
    assert card.params == sum(p.numel() for p in model.parameters())


def test_every_timm_tag_of_the_converted_architectures_has_a_card():
    timm = pytest.importorskip("timm")
    tags = {
        t
        for arch in convert.conversions("timm")
        for t in timm.list_pretrained(arch.split(".")[0] + ".*")
    }
    assert {c.tag for c in CARDS if c.source == "timm"} == tags


def _keras_source(card):
    """(URL, md5) of keras.applications' include_top file, read from its source."""
    import keras.src.applications as applications

    module = {
        "ResNet50": "resnet",
        "ResNet101": "resnet",
        "ResNet152": "resnet",
        "VGG16": "vgg16",
        "VGG19": "vgg19",
        "InceptionV3": "inception_v3",
        "InceptionResNetV2": "inception_resnet_v2",
        "DenseNet121": "densenet",
        "DenseNet169": "densenet",
        "DenseNet201": "densenet",
        "MobileNet": "mobilenet",
        "MobileNetV2": "mobilenet_v2",
        "MobileNetV3Large": "mobilenet_v3",
        "MobileNetV3Small": "mobilenet_v3",
        **{f"EfficientNetB{b}": "efficientnet" for b in range(8)},
    }[card.conversion]
    source = inspect.getsource(
        getattr(__import__(applications.__name__, fromlist=[module]), module)
    )
    if module.startswith("mobilenet"):
        url, md5, _ = _keras_mobilenet(card)
        return url, md5
    if module == "efficientnet":  # its builder's name + ".h5", WEIGHTS_HASHES' first md5
        key = card.conversion[-2:].lower()
        md5 = re.search(rf'"{key}": \(\s*"([0-9a-f]+)"', source)[1]
        base = re.search(r'BASE_WEIGHTS_PATH = "([^"]+)"', source)[1]
        return f"{base}efficientnet{key}.h5", md5
    if module == "resnet":
        key = card.conversion.lower()
        md5 = re.search(rf'"{key}": \(\s*"([0-9a-f]+)"', source)[1]
        base = re.search(r'BASE_WEIGHTS_PATH = \(\s*"([^"]+)"', source)[1]
        return f"{base}{key}_weights_tf_dim_ordering_tf_kernels.h5", md5
    if module == "densenet":  # one file per depth, each named where it is downloaded
        file = f"{card.conversion.lower()}_weights_tf_dim_ordering_tf_kernels.h5"
        md5 = re.search(rf'"{file}",.*?file_hash="([0-9a-f]+)"', source, re.DOTALL)[1]
        base = re.search(r'BASE_WEIGHTS_PATH = \(\s*"([^"]+)"', source)[1]
        return base + file, md5
    md5 = re.search(r'file_hash="([0-9a-f]+)"', source)[1]  # the include_top file comes first
    if module == "inception_resnet_v2":
        base = "".join(
            re.search(r"BASE_WEIGHT_URL = \(\s*((?:\"[^\"]+\"\s*)+)\)", source)[1].split('"')[1::2]
        )
        return base + "inception_resnet_v2_weights_tf_dim_ordering_tf_kernels.h5", md5
    path = "".join(
        re.search(r"WEIGHTS_PATH = \(\s*((?:\"[^\"]+\"\s*)+)\)", source)[1].split('"')[1::2]
    )
    return path, md5


def _keras_options(card):
    """keras.applications' arguments for a MobileNet card: its options and its rows."""
    return dict(card.options, input_shape=(card.input.size, card.input.size, 3))


@functools.cache
def _keras_file(conversion, options):
    """(URL, md5 or None, trainable parameters): what keras.applications' `conversion` with
    weights="imagenet" and `options` (sorted items) asks get_file for, and the model's count;
    get_file and load_weights are stubbed (nothing is downloaded or loaded)."""
    import keras
    from keras.src.utils import file_utils

    asked = []

    def get_file(fname, origin, file_hash=None, **kwargs):
        asked.append((origin, file_hash))
        return fname

    with (
        mock.patch.object(file_utils, "get_file", get_file),
        mock.patch.object(keras.Model, "load_weights", lambda self, *a, **k: None),
    ):
        model = getattr(keras.applications, conversion)(weights="imagenet", **dict(options))
    params = sum(int(w.numpy().size) for w in model.trainable_weights)
    keras.backend.clear_session()
    ((url, md5),) = asked
    return url, md5, params


def _keras_mobilenet(card):
    options = _keras_options(card)
    return _keras_file(card.conversion, tuple(sorted(options.items())))


@pytest.mark.parametrize("card", by_source("keras.applications"))
def test_keras_applications_cards_match_its_source(card):
    url, md5 = _keras_source(card)
    assert (card.url, card.hashes) == (url, {"md5": md5} if md5 else {})
    assert card.input == card.row.input.replace(size=card.input.size)
    if card.group:  # the file of these options and rows is the one their builder chooses
        tag = f"{card.source}:{card.group}"
        assert resolve(card.model, tag, card.options, card.input.size) is card
    else:
        assert card.input == card.row.input


@pytest.mark.parametrize("card", by_source("keras.applications"))
def test_keras_applications_params(card):
    """Its Inception nets' trainable count is ours with bn_scale=False, its MobileNets' ours;
    its ResNets and VGGs are torchvision's architectures (the ResNets' conv biases fold into
    BN), so their cards count what torchvision's do."""
    if card.model.startswith("mobilenet"):  # keras.applications with the card's options
        assert card.params == _keras_mobilenet(card)[2]
    elif card.model.startswith("inception"):
        import keras

        source = getattr(keras.applications, card.conversion)(weights=None)
        assert card.params == sum(int(w.numpy().size) for w in source.trainable_weights)
    else:
        assert card.params == pretrained.CARDS[f"{card.model}:torchvision:IMAGENET1K_V1"].params


@pytest.mark.parametrize(
    "builder, options, rows",
    [
        ("MobileNet", dict(alpha=0.6), 224),  # keras.applications: alpha "can be one of" ...
        ("MobileNetV2", dict(alpha=0.6), 160),
        ("MobileNetV3Large", dict(alpha=0.75, minimalistic=True), 224),
        ("MobileNetV3Small", dict(alpha=1.3), 224),
    ],
)
def test_keras_applications_refuses_these_options_and_so_do_we(builder, options, rows):
    import keras

    shape = (rows, rows, 3)
    with pytest.raises(ValueError, match="alpha"):
        getattr(keras.applications, builder)(weights="imagenet", input_shape=shape, **options)
    asked = ", ".join(f"{k}={v!r}" for k, v in options.items())
    with pytest.raises(ValueError, match=rf"with {asked}.* published no such file.*Accepted: "):
        getattr(keras_classics, builder)(
            weights="keras.applications:imagenet", input_shape=shape, **options
        )


def test_unpublished_rows_are_refused_and_unlisted_rows_take_the_default_size():
    """keras.applications asks for MobileNetV2 1.4 at 192 rows (a file TF-slim never
    released: its 1.3 and 1.4 exist at 224 only); we refuse it. Rows outside its lists load
    its 224 file, as keras.applications does (with a warning)."""
    url, _, _ = _keras_file("MobileNetV2", (("alpha", 1.4), ("input_shape", (192, 192, 3))))
    assert url not in {c.url for c in CARDS}
    with pytest.raises(ValueError, match=r"alpha=1.4 and input size 192.*alpha=1.4 at 224 px"):
        keras_classics.MobileNetV2(
            alpha=1.4, input_shape=(192, 192, 3), weights="keras.applications:imagenet"
        )
    import keras
    from keras.src.utils import file_utils

    with (
        mock.patch.object(file_utils, "get_file", side_effect=RuntimeError("stop")) as get,
        pytest.warns(UserWarning, match=r"\(224, 224\) will be loaded"),
        pytest.raises(RuntimeError, match="stop"),
    ):
        keras.applications.MobileNet(
            weights="imagenet", alpha=0.5, input_shape=(64, 80, 3), include_top=False
        )
    no_top = get.call_args.args[1]
    keras.backend.clear_session()
    for size in (64, None):
        card = resolve("mobilenet_v1", "keras.applications:imagenet", dict(alpha=0.5), size)
        assert card.url == no_top.replace("_no_top", "")


def test_builder_options_choose_the_file_and_explicit_tags_still_name_one():
    card = resolve("mobilenet_v1", "keras.applications:imagenet", dict(alpha=0.75), 192)
    assert card.name == "mobilenet_v1:keras.applications:imagenet_0.75_192"
    assert pretrained.get_weights(card.name) is card
    default = pretrained.CARDS["mobilenet_v1:keras.applications:imagenet"]
    assert resolve("mobilenet_v1", "keras.applications:imagenet") is default
    assert resolve("mobilenet_v1", "keras.applications") is default
    assert default.url.endswith("/mobilenet_1_0_224_tf.h5")
    # "imagenet" is the default card; where that is a group's, the options choose within it.
    large = resolve("mobilenet_v3_large", "imagenet", dict(minimalistic=True))
    assert large.url.endswith("weights_mobilenet_v3_large_minimalistic_224_1.0_float.h5")
    # MobileNet v1's default is timm's (alpha 1.0); another alpha is keras.applications' file
    # of that alpha, as keras.applications' weights="imagenet" gives.
    assert pretrained.default_card("mobilenet_v1").source == "timm"
    assert resolve("mobilenet_v1", "imagenet", dict(alpha=0.75), 192) is card
    assert resolve("mobilenet_v1", "imagenet", dict(alpha=1.0)) is pretrained.default_card(
        "mobilenet_v1"
    )
    with pytest.raises(ValueError, match=r"alpha=0.6 .*Accepted: alpha=1.0 at 224.*alpha=0.25"):
        resolve("mobilenet_v1", "imagenet", dict(alpha=0.6))
    # The group's other files never become a model's default (MobileNetV2 1.4: 75.0%).
    assert pretrained.default_card("mobilenet_v2").name == "mobilenet_v2:torchvision:IMAGENET1K_V2"
    # A card's own tag fixes its options: another alpha conflicts, before any download.
    with pytest.raises(ValueError, match=r"alpha=0.5 conflicts.*need alpha=0.75"):
        keras_classics.MobileNet(weights=card.weights_tag, alpha=0.5)


def test_the_default_is_the_most_accurate_with_a_commercial_licence():
    assert pretrained.default_card("resnet50").name == "resnet50:torchvision:IMAGENET1K_V2"
    assert pretrained.default_card("vgg16").name == "vgg16:torchvision:IMAGENET1K_V1"
    assert pretrained.default_card("inception_v3").tag == "inception_v3.gluon_in1k"
    # fb_swsl (83.3%) is CC-BY-NC: gluon (80.3%) is the default.
    assert pretrained.default_card("resnext101_32x4d").tag == "resnext101_32x4d.gluon_in1k"


def test_names_find_cards_and_bad_names_say_what_is_accepted():
    assert pretrained.get_weights("resnet50") is pretrained.default_card("resnet50")
    assert pretrained.get_weights("resnet50:keras.applications").source == "keras.applications"
    card = pretrained.get_weights("timm:inception_v4.tf_in1k")
    assert card.name == "inception_v4:timm:inception_v4.tf_in1k"
    assert pretrained.get_weights(card.name) is card
    assert [c.model for c in keras_classics.list_weights("inception_v*")] == [
        "inception_v3"
    ] * 6 + ["inception_v4"]
    with pytest.raises(ValueError, match=r"torchvision:IMAGENET1K_V1.*MODEL:torchvision"):
        pretrained.get_weights("torchvision:IMAGENET1K_V1")  # many models have it
    with pytest.raises(ValueError, match=r"'timm:nope' is not available.*'imagenet'"):
        keras_classics.ResNet18(weights="timm:nope")
    assert keras_classics.list_models("resnext*", pretrained=True) == [
        n for n in keras_classics.list_models("resnext") if n in pretrained.pretrained_models()
    ]


def test_cache_paths_follow_keras_home_and_the_mirror_keeps_host_and_path(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    card = pretrained.CARDS["resnet18:torchvision:IMAGENET1K_V1"]
    assert download.download_path(card.url) == str(
        tmp_path
        / "models/keras_classics/downloads/download.pytorch.org/models/resnet18-f37072fd.pth"
    )
    assert pretrained.converted_path(card) == str(
        tmp_path / "models/keras_classics/resnet18/torchvision-IMAGENET1K_V1.weights.h5"
    )
    monkeypatch.setenv("KERAS_CLASSICS_WEIGHTS_MIRROR", "https://mirror.example/base/")
    assert download.source_of(card.url) == (
        "url",
        "https://mirror.example/base/download.pytorch.org/models/resnet18-f37072fd.pth",
    )
    monkeypatch.setenv("KERAS_CLASSICS_WEIGHTS_MIRROR", "file:///srv/weights")
    assert download.source_of(card.url) == (
        "file",
        "/srv/weights/download.pytorch.org/models/resnet18-f37072fd.pth",
    )


def test_the_documented_table_is_the_cards(capsys):
    from keras_classics.__main__ import main

    assert main(["weights", "list", "--markdown"]) == 0
    docs = os.path.join(os.path.dirname(__file__), "..", "..", "docs", "pretrained.md")
    with open(docs, encoding="utf-8") as f:
        text = f.read()
    documented = text.split("<!-- cards-table -->\n")[1].split("\n<!-- /cards-table -->")[0]
    assert documented == capsys.readouterr().out.strip()
