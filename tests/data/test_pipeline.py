"""get_dataset and the converter on real images: sources, labels, determinism, bad data."""

import json
import os
import shutil

import numpy as np
import pytest
import tensorflow as tf

from keras_classics import get_spec, preprocess_input
from keras_classics.data import build_tfrecords, eval_preprocess, find_bad_records, get_dataset
from photos import PHOTOS, photo, write_jpeg


def collect(ds):
    xs, ys = zip(*[(x.numpy(), y.numpy()) for x, y in ds])
    return np.concatenate(xs), np.concatenate(ys)


def eval_set(source, data_dir, split="train", **kw):
    ds, info = get_dataset(
        source,
        split,
        model="resnet18",
        global_batch_size=4,
        training=False,
        image_size=64,
        data_dir=data_dir,
        deterministic=True,
        **kw,
    )
    return collect(ds), info


def test_folder_and_tfrecord_give_the_same_examples(photo_folder, photo_shards):
    (xf, yf), info_f = eval_set("folder", str(photo_folder))
    (xt, yt), info_t = eval_set("imagenet", str(photo_shards))
    assert info_f.class_names == info_t.class_names == sorted(PHOTOS)
    assert info_f.num_examples == info_t.num_examples == 6
    assert xf.shape == (6, 64, 64, 3) and xf.dtype == np.uint8 and yf.dtype == np.int32
    # Shards are shuffled: match examples by content; same image -> same label and pixels.
    xf, xt = xf.astype(np.float32), xt.astype(np.float32)
    order = [int(np.argmin(np.abs(xf - x).mean(axis=(1, 2, 3)))) for x in xt]
    assert sorted(order) == list(range(6))
    np.testing.assert_array_equal(yf[order], yt)
    np.testing.assert_array_equal(xf[order], xt)


def test_labels_of_folder_follow_sorted_class_names(photo_folder):
    (x, y), _ = eval_set("folder", str(photo_folder))
    np.testing.assert_array_equal(y, [0, 0, 0, 1, 1, 1])
    # Files in sorted order: class 0 = astronaut, chelsea, coffee. Against the uncompressed
    # photo, only JPEG loss remains for the right file.
    # The uint8 batches, normalised as the model's InputNormalization does, against the
    # float32 evaluation preprocessing of the photo.
    x = preprocess_input(x.astype(np.float32), "torch")
    for i, name in enumerate(["astronaut", "chelsea", "coffee"]):
        ref = eval_preprocess(tf.constant(photo(name)), get_spec("resnet18"), 64).numpy()
        diffs = np.abs(x - ref).mean(axis=(1, 2, 3))
        assert diffs[i] < 0.1 and np.argmin(diffs) == i


def test_label_offset_one_and_zero(photo_folder, tmp_path):
    for offset in (0, 1):
        out = tmp_path / str(offset)
        build_tfrecords.build(
            str(photo_folder / "train"), str(out), "train", 1, label_offset=offset, verbose=False
        )
        raw = [
            tf.train.Example.FromString(r.numpy()).features.feature
            for r in tf.data.TFRecordDataset(str(out / "train-00000-of-00001"))
        ]
        on_disk = sorted(f["image/class/label"].int64_list.value[0] for f in raw)
        assert on_disk == [offset] * 3 + [offset + 1] * 3
        os.remove(out / "dataset_info.json")  # like shards of other tools: offset must be given
        with pytest.raises(ValueError, match="label_offset=None"):
            eval_set("imagenet", str(out))
        (_, y), _ = eval_set("imagenet", str(out), label_offset=offset)
        assert sorted(y) == [0, 0, 0, 1, 1, 1]
        # The wrong offset is caught by the synset check, never a silent shift.
        with pytest.raises(tf.errors.InvalidArgumentError, match="synset|outside"):
            eval_set("imagenet", str(out), label_offset=1 - offset)


def test_training_batches_seed_determinism_and_drop_remainder(photo_shards):
    def run(seed):
        ds, info = get_dataset(
            "imagenet",
            "train",
            model="resnet18",
            global_batch_size=4,
            training=True,
            image_size=64,
            data_dir=str(photo_shards),
            seed=seed,
            deterministic=True,
        )
        return [collect(ds) for _ in range(2)], info

    (a1, a2), info = run(3)
    (b1, _), _ = run(3)
    (c1, _), _ = run(4)
    assert info.augmentation == "resnet"
    assert a1[0].shape == (4, 64, 64, 3)  # 6 examples, batch 4, remainder dropped
    np.testing.assert_array_equal(a1[0], b1[0])
    np.testing.assert_array_equal(a1[1], b1[1])
    assert not np.allclose(a1[0], c1[0])
    assert not np.allclose(a1[0], a2[0])  # new augmentation every epoch


def test_validation_split_and_ten_crop(photo_shards):
    ds, info = get_dataset(
        "imagenet",
        "validation",
        model="resnet18",
        global_batch_size=2,
        training=False,
        image_size=64,
        data_dir=str(photo_shards),
        ten_crop=True,
    )
    x, y = collect(ds)
    assert x.shape == (2, 10, 64, 64, 3) and x.dtype == np.uint8 and sorted(y) == [0, 1]
    np.testing.assert_array_equal(x[:, 5:], x[:, :5, :, ::-1])
    assert info.num_examples == 2


def test_fashion_mnist_default_is_light_and_full_frame(fashion_test):
    ds, info = get_dataset(
        "fashion_mnist",
        "test",
        model="resnet18",
        global_batch_size=8,
        training=False,
        deterministic=True,
    )
    x, y = next(iter(ds))
    assert info.num_classes == 10 and info.num_examples == 10000 and info.image_size == 32
    images, labels = fashion_test
    np.testing.assert_array_equal(y.numpy(), labels[:8])
    grey = np.repeat(images[:8, :, :, None], 3, axis=3)
    resized = tf.image.resize(grey, (32, 32)).numpy()
    # uint8 batches: the resized frame rounded to whole levels (NumPy and TensorFlow both
    # round half to even).
    assert x.dtype == tf.uint8
    np.testing.assert_array_equal(x.numpy(), np.round(resized).astype(np.uint8))
    _, train_info = get_dataset(
        "fashion_mnist", "train", model="resnet18", global_batch_size=8, training=True
    )
    assert train_info.augmentation == "pad_crop" and train_info.num_examples == 60000


def test_fashion_mnist_jpeg_shards_round_trip(fashion_test, tmp_path):
    images, labels = fashion_test
    root = tmp_path / "fm"
    for i in range(6):
        os.makedirs(root / f"c{labels[i]}", exist_ok=True)
        write_jpeg(root / f"c{labels[i]}" / f"{i}.jpg", images[i][:, :, None], quality=95)
    report = build_tfrecords.build(str(root), str(tmp_path / "out"), "train", 2, verbose=False)
    assert report["written"] == 6
    assert {why for _, why in report["reencoded"]} == {"greyscale JPEG"}
    (x, y), info = eval_set("imagenet", str(tmp_path / "out"))
    assert info.class_names == sorted(f"c{v}" for v in set(labels[:6]))
    assert x.shape == (6, 64, 64, 3)


def make_bad_folder(photo_folder, tmp_path, kind):
    root = tmp_path / kind
    shutil.copytree(photo_folder / "train", root)
    bad = root / "n01443537" / "bad.JPEG"
    good = (photo_folder / "train" / "n01440764" / "chelsea.JPEG").read_bytes()
    data = {
        "empty": b"",
        "not_an_image": b"synset,label\nn01440764,0\n",
        "truncated": good[: len(good) // 2],
        "corrupt": good[:2] + b"\xff\xc0" + os.urandom(400) + b"\xff\xd9",
    }[kind]
    bad.write_bytes(data)
    return root, str(bad)


@pytest.mark.parametrize("kind", ["empty", "not_an_image", "truncated"])
def test_bad_files_are_named_or_skipped_and_counted(photo_folder, tmp_path, kind):
    root, bad = make_bad_folder(photo_folder, tmp_path, kind)
    with pytest.raises(tf.errors.InvalidArgumentError, match=f"Bad record {bad}"):
        eval_set("folder", str(root))
    (x, y), info = eval_set("folder", str(root), skip_errors=True)
    assert len(y) == 6 and info.skipped() == {kind: 1}
    assert "skipped 1 records" in info.summary()


def test_corrupt_jpeg_is_skipped_and_found(photo_folder, tmp_path):
    root, bad = make_bad_folder(photo_folder, tmp_path, "corrupt")
    with pytest.raises(tf.errors.InvalidArgumentError):
        eval_set("folder", str(root))
    (_, y), info = eval_set("folder", str(root), skip_errors=True)
    assert len(y) == 6 and info.skipped() == {"undecodable": 1}
    assert [r for r, _ in find_bad_records("folder", "train", data_dir=str(root))] == [bad]


def test_label_out_of_range_and_missing_feature(tmp_path):
    data = tf.io.encode_jpeg(photo("coffee", (64, 64))).numpy()
    path = str(tmp_path / "train-00000-of-00001")
    with tf.io.TFRecordWriter(path) as w:
        ok = build_tfrecords.make_example(
            build_tfrecords.Encoded(data, 64, 64, ""), 1, "", "ok.JPEG"
        )
        w.write(ok.SerializeToString())
        ok.features.feature["image/class/label"].int64_list.value[0] = 5
        ok.features.feature["image/filename"].bytes_list.value[0] = b"five.JPEG"
        w.write(ok.SerializeToString())
        del ok.features.feature["image/class/label"]
        w.write(ok.SerializeToString())
    (tmp_path / "dataset_info.json").write_text(
        json.dumps({"class_names": ["a", "b"], "label_offset": 1})
    )
    with pytest.raises(
        tf.errors.InvalidArgumentError, match=r"record 1 \(five.JPEG\): label 4 is outside \[0, 2\)"
    ):
        eval_set("imagenet", str(tmp_path))
    (_, y), info = eval_set("imagenet", str(tmp_path), skip_errors=True)
    np.testing.assert_array_equal(y, [0])
    assert info.skipped() == {"label_out_of_range": 1, "missing_feature": 1}


def test_argument_errors_name_the_value(tmp_path):
    with pytest.raises(ValueError, match="source='webdataset'"):
        get_dataset("webdataset", "train", model="resnet18", global_batch_size=2, training=True)
    with pytest.raises(ValueError, match="split='dev'"):
        get_dataset("fashion_mnist", "dev", model="resnet18", global_batch_size=2, training=True)
    with pytest.raises(ValueError, match="image_size=16 .* >= 32"):
        get_dataset(
            "fashion_mnist",
            "train",
            model="resnet18",
            global_batch_size=2,
            training=True,
            image_size=16,
        )
    with pytest.raises(ValueError, match="global_batch_size=0"):
        get_dataset("fashion_mnist", "train", model="resnet18", global_batch_size=0, training=True)
    with pytest.raises(ValueError, match="is not a directory"):
        get_dataset(
            "folder",
            "train",
            model="resnet18",
            global_batch_size=2,
            training=True,
            data_dir=str(tmp_path / "missing"),
        )
    os.makedirs(tmp_path / "empty" / "cls")
    with pytest.raises(ValueError, match="no files"):
        get_dataset(
            "folder",
            "train",
            model="resnet18",
            global_batch_size=2,
            training=True,
            data_dir=str(tmp_path / "empty"),
        )
    with pytest.raises(ValueError, match="no TFRecord shards"):
        get_dataset(
            "imagenet",
            "train",
            model="resnet18",
            global_batch_size=2,
            training=True,
            data_dir=str(tmp_path / "empty"),
        )


def test_converter_reencodes_cmyk_and_png_and_stops_on_bad_files(photo_folder, tmp_path):
    from PIL import Image

    root = tmp_path / "in"
    shutil.copytree(photo_folder / "train", root)
    Image.fromarray(photo("rocket")).convert("CMYK").save(root / "n01440764" / "cmyk.JPEG", "JPEG")
    Image.fromarray(photo("coffee")).save(root / "n01443537" / "png.JPEG", "PNG")
    report = build_tfrecords.build(str(root), str(tmp_path / "out"), "train", 3, verbose=False)
    assert report["written"] == 8
    assert sorted((os.path.basename(f), why) for f, why in report["reencoded"]) == [
        ("cmyk.JPEG", "CMYK JPEG"),
        ("png.JPEG", "PNG data"),
    ]
    (x, y), _ = eval_set("imagenet", str(tmp_path / "out"))
    assert len(y) == 8
    (root / "n01443537" / "broken.JPEG").write_bytes(b"")
    code = build_tfrecords.main(
        [
            "--input_dir",
            str(root),
            "--output_dir",
            str(tmp_path / "out2"),
            "--split",
            "train",
            "--num_shards",
            "2",
        ]
    )
    assert code == 1
    code = build_tfrecords.main(
        [
            "--input_dir",
            str(root),
            "--output_dir",
            str(tmp_path / "out3"),
            "--split",
            "train",
            "--num_shards",
            "2",
            "--skip_errors",
        ]
    )
    assert code == 0
    info = json.loads((tmp_path / "out3" / "dataset_info.json").read_text())
    assert info["splits"]["train"]["num_examples"] == 8


def test_converter_shards_are_deterministic(photo_folder, tmp_path):
    contents = []
    for run in ("a", "b"):
        build_tfrecords.build(
            str(photo_folder / "train"), str(tmp_path / run), "train", 2, verbose=False
        )
        contents.append(
            [(tmp_path / run / f"train-0000{i}-of-00002").read_bytes() for i in range(2)]
        )
    assert contents[0] == contents[1]


def test_epoch_dataset_is_the_same_however_often_iterated():
    """With epoch=, the data is a pure function of (seed, epoch): a second iterator (as a
    distribution strategy may open) or a resumed process sees the same batches."""

    def first_batches(ds):
        return [(x.numpy(), y.numpy()) for x, y in ds.take(2)]

    kwargs = dict(model="resnet18", global_batch_size=8, training=True, seed=3, deterministic=True)
    ds, _ = get_dataset("fashion_mnist", "train", epoch=1, **kwargs)
    once, again = first_batches(ds), first_batches(ds)
    rebuilt = first_batches(get_dataset("fashion_mnist", "train", epoch=1, **kwargs)[0])
    other = first_batches(get_dataset("fashion_mnist", "train", epoch=2, **kwargs)[0])
    for (xa, ya), (xb, yb), (xc, yc) in zip(once, again, rebuilt):
        np.testing.assert_array_equal(ya, yb)
        np.testing.assert_array_equal(xa, xb)
        np.testing.assert_array_equal(ya, yc)
        np.testing.assert_array_equal(xa, xc)
    assert any(not np.array_equal(a[1], b[1]) for a, b in zip(once, other))
    # Without epoch, each iteration is a new epoch: a new order.
    free, _ = get_dataset("fashion_mnist", "train", **kwargs)
    assert any(
        not np.array_equal(a[1], b[1]) for a, b in zip(first_batches(free), first_batches(free))
    )


def test_normalize_true_gives_the_model_ready_floats(fashion_test):
    """normalize=True, the contract before uint8 batches: float32 normalised with the
    InputConfig's mode, the unrounded resize; InputNormalization of the uint8 batch (what the
    training program's model does on its device) is within half a level of it."""
    from keras_classics.layers import InputNormalization

    kwargs = dict(model="resnet18", global_batch_size=8, training=False, deterministic=True)
    floats, info = get_dataset("fashion_mnist", "test", normalize=True, **kwargs)
    pixels, _ = get_dataset("fashion_mnist", "test", **kwargs)
    f, p = next(iter(floats))[0].numpy(), next(iter(pixels))[0]
    images, _ = fashion_test
    grey = np.repeat(images[:8, :, :, None], 3, axis=3)
    ref = preprocess_input(tf.image.resize(grey, (32, 32)).numpy(), "torch")
    assert f.dtype == np.float32 and info.input.mode == "torch"
    np.testing.assert_allclose(f, ref, atol=1e-4)
    on_device = np.asarray(InputNormalization("torch")(p))
    half_level = 0.5 / 255 / min(info.input.std)
    assert np.abs(on_device - f).max() <= half_level + 1e-5
    assert np.abs(on_device - f).max() > 1e-3  # the rounding is there: the check can fail
    with pytest.raises(ValueError, match="normalize='yes' is invalid"):
        get_dataset("fashion_mnist", "test", normalize="yes", **kwargs)
