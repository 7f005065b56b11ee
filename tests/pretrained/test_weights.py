"""weights="imagenet" and the card tags end to end, against files served on 127.0.0.1.

The served files are checkpoints of randomly initialised source models (BatchNorm statistics
randomised) under their upstream names; a card's published hash is replaced by the served
file's (the real files' hashes cannot match random weights). Parity: max |ours - source| <=
1e-4 x max |source logit|, as the conversion tests (docs/convert.md).
"""

import dataclasses
import hashlib
import io
import json
import logging
import os
import subprocess
import sys

import numpy as np
import pytest

from conftest import files_under
from convert_parity import (
    TOLERANCE,
    block_triton,
    randomise_keras,
    randomise_torch_batchnorm,
    relative_diff,
    rgb_images,
)

block_triton()
torch = pytest.importorskip("torch", reason="the served checkpoints are made with torch")
torchvision = pytest.importorskip("torchvision")

import keras_classics  # noqa: E402
from keras_classics import pretrained  # noqa: E402
from keras_classics.records import download  # noqa: E402

RESNET18 = "resnet18:torchvision:IMAGENET1K_V1"
SIZE = 64


def torch_bytes(state_dict):
    buffer = io.BytesIO()
    torch.save(state_dict, buffer)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def resnet18_source():
    torch.manual_seed(0)
    model = randomise_torch_batchnorm(torchvision.models.resnet18(weights=None))
    return model, torch_bytes(model.state_dict())


@pytest.fixture(scope="module")
def images():
    rng = np.random.default_rng(0)
    return rng.standard_normal((2, SIZE, SIZE, 3)).astype("float32")


def torch_logits(model, images, features=False):
    with torch.no_grad():
        x = torch.from_numpy(images.transpose(0, 3, 1, 2).copy())
        if features:
            body = torch.nn.Sequential(*list(model.children())[:-1])
            return body(x).flatten(1).numpy()
        return model(x).numpy()


def serve_card(monkeypatch, server, name, data, behaviour="ok", hashed=True):
    """Serves `data` as card `name`'s upstream file; its published hash becomes the data's."""
    card = pretrained.CARDS[name]
    if hashed:
        algorithm = next(iter(card.hashes))
        digest = hashlib.new(algorithm, data).hexdigest()
        card = dataclasses.replace(card, hashes={algorithm: digest[: len(card.hashes[algorithm])]})
        monkeypatch.setitem(pretrained.CARDS, name, card)
    server.serve(card.url, data, behaviour)
    return card


def test_imagenet_gives_the_source_logits_and_the_second_build_no_request(
    cache, server, monkeypatch, resnet18_source, images
):
    source, data = resnet18_source
    card = serve_card(monkeypatch, server, RESNET18, data)
    assert pretrained.default_card("resnet18") is card
    model = keras_classics.ResNet18(
        weights="imagenet", input_shape=(SIZE, SIZE, 3), classifier_activation=None
    )
    reference = torch_logits(source, images)
    first = np.asarray(model(images))
    assert relative_diff(first, reference) <= TOLERANCE
    assert server.count(card.url) == 1
    assert model.weights_card is card
    # Cached: the converted file and its record; the second build makes no request.
    converted = pretrained.converted_path(card)
    with open(converted[: -len(".weights.h5")] + ".json") as f:
        record = json.load(f)
    assert record["card"]["name"] == RESNET18
    assert record["source_sha256"] == hashlib.sha256(data).hexdigest()
    server.stop()
    again = keras_classics.ResNet18(
        weights="torchvision:IMAGENET1K_V1",
        input_shape=(SIZE, SIZE, 3),
        classifier_activation=None,
    )
    np.testing.assert_array_equal(np.asarray(again(images)), first)


def test_body_and_new_classifier(cache, server, monkeypatch, resnet18_source, images, caplog):
    source, data = resnet18_source
    serve_card(monkeypatch, server, RESNET18, data)
    features = keras_classics.ResNet18(
        weights="imagenet", include_top=False, pooling="avg", input_shape=(SIZE, SIZE, 3)
    )
    reference = torch_logits(source, images, features=True)
    assert relative_diff(features(images), reference) <= TOLERANCE
    with caplog.at_level(logging.WARNING, logger="keras_classics.pretrained"):
        ten = keras_classics.ResNet18(weights="imagenet", classes=10, input_shape=(SIZE, SIZE, 3))
    assert "predictions randomly initialised" in caplog.text
    assert ten.get_layer("predictions").kernel.shape == (512, 10)
    body = [w.numpy() for w in ten.get_layer("conv5_block2_2_conv").weights]
    expected = source.layer4[1].conv2.weight.detach().numpy().transpose(2, 3, 1, 0)
    np.testing.assert_array_equal(body[0], expected)
    assert server.count(pretrained.CARDS[RESNET18].url) == 1  # converted once


def test_card_options_are_applied_and_a_conflict_names_both(cache, server, monkeypatch):
    # No file is served: a conflict is refused before any download.
    with pytest.raises(ValueError, match=r"downsample_at='1x1'.*need downsample_at='3x3'"):
        keras_classics.ResNet50(weights="torchvision:IMAGENET1K_V2", downsample_at="1x1")
    assert sum(server.requests.values()) == 0


def test_grey_input_and_features_from_a_card(cache, server, monkeypatch, resnet18_source, images):
    """A card's weights on one input channel: the first convolution is timm's
    adapt_input_conv of the source's; features_only levels P2 ... P5 are the source's
    layer1 ... layer4 outputs."""
    manipulate = pytest.importorskip("timm.models._manipulate")
    source, data = resnet18_source
    serve_card(monkeypatch, server, RESNET18, data)
    grey = keras_classics.ResNet18(weights="imagenet", input_shape=(SIZE, SIZE, 1))
    expected = manipulate.adapt_input_conv(1, source.conv1.weight.detach())
    np.testing.assert_allclose(
        grey.get_layer("conv1_conv").kernel, expected.numpy().transpose(2, 3, 1, 0), atol=1e-6
    )
    features = keras_classics.ResNet18(
        weights="imagenet", features_only=True, out_indices=(1, 2, 3, 4)
    )
    out = features(images)
    with torch.no_grad():
        x = torch.from_numpy(images.transpose(0, 3, 1, 2).copy())
        x = source.maxpool(source.relu(source.bn1(source.conv1(x))))
        for level, stage in zip(
            ("P2", "P3", "P4", "P5"), (source.layer1, source.layer2, source.layer3, source.layer4)
        ):
            x = stage(x)
            reference = x.numpy().transpose(0, 2, 3, 1)
            assert relative_diff(out[level], reference) <= TOLERANCE, level
    assert server.count(pretrained.CARDS[RESNET18].url) == 1  # converted once, for both


def test_implied_options_keras_applications(cache, server, monkeypatch, images, tmp_path):
    keras = pytest.importorskip("keras")
    source = randomise_keras(
        keras.applications.ResNet50(weights=None, input_shape=(SIZE, SIZE, 3)), seed=1
    )
    path = tmp_path / "source.weights.h5"
    source.save_weights(path)
    name = "resnet50:keras.applications:imagenet"
    serve_card(monkeypatch, server, name, path.read_bytes())
    pixels = (images * 40 + 127).clip(0, 255)
    reference = np.asarray(source(keras.applications.resnet.preprocess_input(pixels.copy())))
    model = keras_classics.ResNet50(weights="keras.applications", input_shape=(SIZE, SIZE, 3))
    assert model.builder_options["downsample_at"] == "1x1"  # the paper's, not torchvision's
    ours = keras_classics.preprocess_input(pixels, "caffe")
    assert relative_diff(model(ours), reference) <= TOLERANCE


def test_keras_applications_mobilenet_options_choose_the_file(cache, server, monkeypatch, tmp_path):
    """MobileNet(alpha=0.5, input_shape=(128, 128, 3), weights="keras.applications:imagenet")
    downloads keras.applications' mobilenet_5_0_128_tf.h5 (served: a random alpha-0.5 model),
    no other file, and gives that model's logits."""
    keras = pytest.importorskip("keras")
    from keras_classics.weights.conversion import read_weights_info

    rows = 128
    source = randomise_keras(
        keras.applications.MobileNet(
            weights=None, alpha=0.5, input_shape=(rows, rows, 3), classifier_activation=None
        ),
        seed=2,
    )
    path = tmp_path / "source.weights.h5"
    source.save_weights(path)
    name = "mobilenet_v1:keras.applications:imagenet_0.5_128"
    card = serve_card(monkeypatch, server, name, path.read_bytes(), hashed=False)
    assert card.url.endswith("/mobilenet/mobilenet_5_0_128_tf.h5")
    model = keras_classics.MobileNet(
        alpha=0.5,
        input_shape=(rows, rows, 3),
        weights="keras.applications:imagenet",
        classifier_activation=None,
    )
    assert model.weights_card is card
    assert sum(server.requests.values()) == server.count(card.url) == 1
    pixels = rgb_images(rows, seed=4)
    reference = np.asarray(source(keras.applications.mobilenet.preprocess_input(pixels.copy())))
    ours = keras_classics.preprocess_input(pixels, card.input.mode)
    assert relative_diff(model(ours), reference) <= TOLERANCE
    # The converted file records the options it was converted for.
    info = read_weights_info(pretrained.converted_path(card))
    assert info.builder_kwargs == {"alpha": 0.5}


def test_timm_tag_records_the_first_hash_and_refuses_a_changed_file(
    cache, server, monkeypatch, images
):
    timm = pytest.importorskip("timm")
    safetensors_torch = pytest.importorskip("safetensors.torch")
    torch.manual_seed(0)
    source = randomise_torch_batchnorm(timm.create_model("resnext101_32x4d", pretrained=False))
    data = safetensors_torch.save(source.state_dict())
    name = "resnext101_32x4d:timm:resnext101_32x4d.gluon_in1k"
    card = serve_card(monkeypatch, server, name, data, hashed=False)
    assert card.hashes == {}  # timm publishes none
    model = keras_classics.get_model(
        "resnext101_32x4d",
        weights="timm:resnext101_32x4d.gluon_in1k",
        input_shape=(SIZE, SIZE, 3),
        classifier_activation=None,
    )
    mean = np.array([0.485, 0.456, 0.406], "float32")
    std = np.array([0.229, 0.224, 0.225], "float32")
    pixels = (images * 40 + 127).clip(0, 255)
    reference = torch_logits(source, (pixels / 255 - mean) / std)
    ours = keras_classics.preprocess_input(pixels, card.input.mode)
    assert relative_diff(model(ours), reference) <= TOLERANCE
    downloaded = download.download_path(card.url)
    with open(downloaded + ".sha256") as f:
        assert f.read().strip() == hashlib.sha256(data).hexdigest()
    # A changed source file (the converted one gone, so it is read again) is refused and
    # deleted: the recorded hash is checked on every later read.
    os.remove(pretrained.converted_path(card))
    with open(downloaded, "r+b") as f:
        f.seek(100)
        f.write(b"\0" * 8)
    with pytest.raises(ValueError, match=hashlib.sha256(data).hexdigest()):
        pretrained.fetch(card)
    assert not os.path.exists(downloaded)


@pytest.mark.parametrize("failure", ["tampered", "truncate", "404", "hang", "offline"])
def test_a_failed_fetch_names_the_way_out_and_leaves_nothing(
    failure, cache, server, monkeypatch, resnet18_source
):
    _, data = resnet18_source
    card = pretrained.CARDS[RESNET18]
    if failure == "tampered":  # the published hash is the real file's, the served is not
        card = serve_card(monkeypatch, server, RESNET18, data)
        server.serve(card.url, data[:-1] + b"\1")
    elif failure in ("truncate", "hang"):
        card = serve_card(monkeypatch, server, RESNET18, data, behaviour=failure)
    elif failure == "offline":
        card = serve_card(monkeypatch, server, RESNET18, data)
        monkeypatch.setenv("KERAS_CLASSICS_OFFLINE", "1")
    error = download.HashMismatchError if failure == "tampered" else download.DownloadError
    with pytest.raises(error) as caught:
        keras_classics.ResNet18(weights="imagenet")
    message = str(caught.value)
    assert card.url in message
    if failure == "tampered":
        expected = card.hashes["sha256"]
        received = hashlib.sha256(data[:-1] + b"\1").hexdigest()
        assert expected in message and received in message
    else:
        assert download.download_path(card.url) in message
        assert "KERAS_CLASSICS_WEIGHTS_MIRROR" in message
    if failure == "404":
        assert "HTTP 404" in message
    if failure == "offline":
        assert "KERAS_CLASSICS_OFFLINE" in message and sum(server.requests.values()) == 0
    assert files_under(cache) == []


def test_a_local_mirror_directory_and_offline_after_the_first_use(
    cache, server, monkeypatch, resnet18_source, tmp_path, images
):
    source, data = resnet18_source
    card = serve_card(monkeypatch, server, RESNET18, data)
    mirror = tmp_path / "mirror"
    target = mirror / "download.pytorch.org" / "models" / card.url.rsplit("/", 1)[1]
    target.parent.mkdir(parents=True)
    target.write_bytes(data)
    monkeypatch.setenv("KERAS_CLASSICS_WEIGHTS_MIRROR", str(mirror))
    monkeypatch.setenv("KERAS_CLASSICS_OFFLINE", "1")  # a directory is not the network
    model = keras_classics.ResNet18(
        weights="imagenet", input_shape=(SIZE, SIZE, 3), classifier_activation=None
    )
    assert relative_diff(model(images), torch_logits(source, images)) <= TOLERANCE
    assert sum(server.requests.values()) == 0
    # A damaged converted file is made again from the cached download, still offline.
    converted = pretrained.converted_path(card)
    with open(converted, "r+b") as f:
        f.seek(2000)
        f.write(b"\0" * 16)
    target.unlink()
    again = keras_classics.ResNet18(
        weights="imagenet", input_shape=(SIZE, SIZE, 3), classifier_activation=None
    )
    np.testing.assert_array_equal(np.asarray(again(images)), np.asarray(model(images)))


FETCH = """
import sys
from keras_classics.records import download
print(download.fetch(sys.argv[1], {{}}, progress=False))
"""


def test_two_processes_fetching_at_once_make_one_file(cache, server):
    url = "https://example.org/weights/big.bin"
    data = os.urandom(3 << 20)
    server.serve(url, data, behaviour="slow")  # about half a second a transfer
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", FETCH.format(), url],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    paths = {out.strip() for out, _ in outputs}
    assert paths == {download.download_path(url)}
    assert server.count(url) == 1  # the second waited for the first's file
    with open(paths.pop(), "rb") as f:
        assert f.read() == data
    assert [os.path.basename(p) for p in files_under(cache)] == ["big.bin", "big.bin.sha256"]


def test_cli_fetch_path_list_and_verify(cache, server, monkeypatch, resnet18_source, capsys):
    """The commands for an air-gapped cache, and verify's table: its classes are the torch
    source model's top-1 on the photos (random weights: wrong, which verify must say)."""
    pytest.importorskip("skimage")
    from keras_classics.__main__ import main
    from keras_classics.data import eval_preprocess
    from keras_classics.pretrained import verify
    from keras_classics.records.imagenet import class_index

    source, data = resnet18_source
    card = serve_card(monkeypatch, server, RESNET18, data)
    assert main(["weights", "path", "resnet18"]) == 0
    out = capsys.readouterr().out
    assert pretrained.converted_path(card) in out and download.download_path(card.url) in out
    assert main(["weights", "fetch", "resnet18:torchvision:IMAGENET1K_V1"]) == 0
    assert pretrained.converted_path(card) in capsys.readouterr().out
    assert main(["weights", "list", "resnet1*"]) == 0
    listed = [line for line in capsys.readouterr().out.splitlines() if RESNET18 in line]
    assert listed[0].startswith("* ") and listed[0].rstrip().endswith("yes")  # default, cached
    server.stop()  # summary and verify read the cache
    assert main(["summary", "resnet18", "--weights", "imagenet"]) == 0
    out = capsys.readouterr().out
    assert f"weights: {RESNET18}" in out and "top-1 69.758%" in out
    assert "builder options: {'depths': None, 'shortcut': None" in out
    expected = {}
    for name in verify.PHOTOS:
        x = np.asarray(eval_preprocess(verify.photo(name), card.input))[None]
        expected[name] = int(torch_logits(source, x).argmax())
    monkeypatch.setattr(verify, "PHOTOS", {n: () for n in verify.PHOTOS})
    monkeypatch.setitem(verify.PHOTOS, "chelsea", (expected["chelsea"],))
    assert main(["weights", "verify", "resnet18"]) == 1  # two photos misclassified
    table = capsys.readouterr().out.splitlines()
    row = next(line for line in table if line.startswith(RESNET18)).split(" | ")
    names = class_index()
    assert row[1] == names[expected["chelsea"]][1]
    assert row[2:4] == [f"{names[expected[n]][1]} (wrong)" for n in ("coffee", "rocket")]
    assert row[4] == "NO"
    assert main(["weights", "fetch", "nope"]) == 2
    assert "'nope' is not a weight card" in capsys.readouterr().err
