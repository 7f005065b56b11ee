"""Class-folder directory -> ImageNet-format TFRecord shards.

    python -m keras_classics.data.build_tfrecords --input_dir DIR --output_dir DIR \\
        --split train --num_shards 1024

Writes <output_dir>/<split>-00000-of-01024 ... with the features of TensorFlow's
build_imagenet_data.py (labels label_offset..N-1+label_offset, 1-based by default as there) and
a dataset_info.json with the class names, label offset and example counts, which
get_dataset("imagenet", ...) reads. Shard contents are deterministic: the file list is sorted,
shuffled with --seed (so shards mix classes) and cut into contiguous shards; shards are written
in parallel threads. Files that are not RGB JPEG (the ImageNet train set holds 22 CMYK JPEGs and
a PNG named .JPEG; grey JPEGs are common) are re-encoded as RGB JPEG and listed at the end.
"""

import argparse
import concurrent.futures
import dataclasses
import json
import os
import random
import sys

import tensorflow as tf

from keras_classics.data.sources import folder
from keras_classics.data.sources.tfrecord import INFO_FILE


class BadImageError(ValueError):
    pass


def jpeg_components(data):
    """Colour components of a baseline/progressive JPEG from its SOF header (1 grey, 3 YCbCr,
    4 CMYK/YCCK), or None when no SOF marker is found."""
    i = 2
    while i + 4 <= len(data):
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF:
            i += 1
            continue
        length = int.from_bytes(data[i + 2 : i + 4], "big")
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            return data[i + 9] if i + 9 < len(data) else None
        i += 2 + length
    return None


def image_format(data):
    if data[:3] == b"\xff\xd8\xff":
        return "JPEG"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "PNG"
    if data[:3] == b"GIF":
        return "GIF"
    if data[:2] == b"BM":
        return "BMP"
    return None


@dataclasses.dataclass
class Encoded:
    data: bytes
    height: int
    width: int
    reencoded: str  # why it was re-encoded, "" if kept as it was


def encode_rgb_jpeg(path, quality=95):
    """The file's bytes as an RGB JPEG (re-encoded if needed) with its size; BadImageError
    naming the file when it cannot be decoded."""
    with open(path, "rb") as f:
        data = f.read()
    fmt = image_format(data)
    if not data:
        raise BadImageError(f"{path}: empty file (0 bytes)")
    if fmt is None:
        raise BadImageError(f"{path}: not a JPEG, PNG, GIF or BMP image")
    try:
        image = tf.io.decode_image(data, channels=3, expand_animations=False).numpy()
    except tf.errors.OpError as err:
        raise BadImageError(f"{path}: cannot be decoded ({err.message.splitlines()[0]})") from None
    reason = ""
    if fmt != "JPEG":
        reason = f"{fmt} data"
    else:
        components = jpeg_components(data)
        if components != 3:
            reason = {1: "greyscale JPEG", 4: "CMYK JPEG"}.get(
                components, f"JPEG with {components} channels"
            )
        elif not data.rstrip(b"\0").endswith(b"\xff\xd9"):
            reason = "JPEG without end-of-image marker"
    if reason:
        data = tf.io.encode_jpeg(image, quality=quality, chroma_downsampling=False).numpy()
    return Encoded(data, int(image.shape[0]), int(image.shape[1]), reason)


def _feature(value):
    if isinstance(value, int):
        return tf.train.Feature(int64_list=tf.train.Int64List(value=[value]))
    if isinstance(value, str):
        value = value.encode()
    return tf.train.Feature(bytes_list=tf.train.BytesList(value=[value]))


def make_example(encoded, label, synset, filename):
    """An ImageNet-layout tf.Example (build_imagenet_data.py's features)."""
    return tf.train.Example(
        features=tf.train.Features(
            feature={
                "image/encoded": _feature(encoded.data),
                "image/format": _feature("JPEG"),
                "image/colorspace": _feature("RGB"),
                "image/channels": _feature(3),
                "image/height": _feature(encoded.height),
                "image/width": _feature(encoded.width),
                "image/class/label": _feature(label),
                "image/class/synset": _feature(synset),
                "image/filename": _feature(os.path.basename(filename)),
            }
        )
    )


def plan_shards(files, labels, num_shards, shuffle, seed):
    """Deterministic [(file, label)] per shard."""
    pairs = list(zip(files, labels))
    if shuffle:
        random.Random(seed).shuffle(pairs)
    bounds = [round(i * len(pairs) / num_shards) for i in range(num_shards + 1)]
    return [pairs[bounds[i] : bounds[i + 1]] for i in range(num_shards)]


def write_shard(path, pairs, class_names, label_offset, skip_errors, progress):
    """Writes one shard; returns (written, [(file, why re-encoded)], [bad file messages])."""
    reencoded, skipped, written = [], [], 0
    tmp = path + ".tmp"
    with tf.io.TFRecordWriter(tmp) as writer:
        for file, label in pairs:
            try:
                encoded = encode_rgb_jpeg(file)
            except BadImageError as err:
                if not skip_errors:
                    raise
                skipped.append(str(err))
                progress()
                continue
            if encoded.reencoded:
                reencoded.append((file, encoded.reencoded))
            example = make_example(encoded, label + label_offset, class_names[label], file)
            writer.write(example.SerializeToString())
            written += 1
            progress()
    os.replace(tmp, path)
    return written, reencoded, skipped


def build(
    input_dir,
    output_dir,
    split,
    num_shards,
    *,
    label_offset=1,
    skip_errors=False,
    num_workers=None,
    seed=0,
    verbose=True,
):
    """Converts a class-folder directory; returns a report dict (written, reencoded, skipped).

    Raises BadImageError naming the first undecodable file unless skip_errors.
    """
    if split not in ("train", "validation", "test"):
        raise ValueError(f"split={split!r} is invalid; accepted: 'train', 'validation', 'test'.")
    if isinstance(num_shards, bool) or not isinstance(num_shards, int) or num_shards < 1:
        raise ValueError(f"num_shards={num_shards!r} is invalid; accepted: a positive integer.")
    if label_offset not in (0, 1):
        raise ValueError(f"label_offset={label_offset!r} is invalid; accepted: 0 or 1.")
    if not os.path.isdir(input_dir):
        raise ValueError(
            f"input_dir={input_dir!r} is not a directory; accepted: a directory of "
            "class sub-folders."
        )
    class_names, files, labels = folder.list_class_folders(input_dir)
    os.makedirs(output_dir, exist_ok=True)
    info_path = os.path.join(output_dir, INFO_FILE)
    info = {}
    if os.path.exists(info_path):
        with open(info_path, encoding="utf-8") as f:
            info = json.load(f)
        if (
            info.get("class_names", class_names) != class_names
            or info.get("label_offset", label_offset) != label_offset
        ):
            raise ValueError(
                f"{output_dir!r} already holds shards with other classes or "
                f"label_offset ({info_path}); accepted: the same classes and "
                "offset for every split of a dataset."
            )
    shards = plan_shards(files, labels, num_shards, shuffle=split == "train", seed=seed)
    names = [
        os.path.join(output_dir, f"{split}-{i:05d}-of-{num_shards:05d}") for i in range(num_shards)
    ]
    import keras

    bar = keras.utils.Progbar(len(files), unit_name="image", verbose=1 if verbose else 0)
    import threading

    lock = threading.Lock()
    done = [0]

    def progress():
        with lock:
            done[0] += 1
            if verbose and (done[0] % 100 == 0 or done[0] == len(files)):
                bar.update(done[0])

    workers = num_workers or min(os.cpu_count() or 1, num_shards)
    report = {"written": 0, "reencoded": [], "skipped": []}
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        futures = [
            pool.submit(write_shard, n, p, class_names, label_offset, skip_errors, progress)
            for n, p in zip(names, shards)
        ]
        try:
            for fut in futures:
                written, reencoded, skipped = fut.result()
                report["written"] += written
                report["reencoded"] += reencoded
                report["skipped"] += skipped
        except BaseException:
            for fut in futures:
                fut.cancel()
            raise
    info.update(class_names=class_names, label_offset=label_offset)
    info.setdefault("splits", {})[split] = {
        "num_examples": report["written"],
        "num_shards": num_shards,
    }
    with open(info_path, "w", encoding="utf-8") as f:
        json.dump(info, f, indent=1)
    return report


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m keras_classics.data.build_tfrecords", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--input_dir", required=True, help="class sub-folders of images")
    parser.add_argument("--output_dir", required=True)
    parser.add_argument("--split", required=True, choices=("train", "validation", "test"))
    parser.add_argument("--num_shards", type=int, required=True)
    parser.add_argument(
        "--label_offset",
        type=int,
        default=1,
        choices=(0, 1),
        help="first label on disk (1 = build_imagenet_data.py convention)",
    )
    parser.add_argument(
        "--skip_errors",
        action="store_true",
        help="leave out undecodable files and name them at the end",
    )
    parser.add_argument("--num_workers", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0, help="shuffle seed of the train split")
    args = parser.parse_args(argv)
    try:
        report = build(
            args.input_dir,
            args.output_dir,
            args.split,
            args.num_shards,
            label_offset=args.label_offset,
            skip_errors=args.skip_errors,
            num_workers=args.num_workers,
            seed=args.seed,
        )
    except (BadImageError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        if isinstance(err, BadImageError):
            print("Pass --skip_errors to leave such files out.", file=sys.stderr)
        return 1
    print(f"Wrote {report['written']} images to {args.num_shards} shards in {args.output_dir}.")
    if report["reencoded"]:
        print(f"Re-encoded {len(report['reencoded'])} files as RGB JPEG:")
        for file, why in report["reencoded"]:
            print(f"  {file}: {why}")
    if report["skipped"]:
        print(f"Skipped {len(report['skipped'])} files that cannot be decoded:")
        for message in report["skipped"]:
            print(f"  {message}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
