"""Training-pipeline throughput vs the decode-only limit on ImageNet-size real JPEG shards.

    PYTHONPATH=. python benchmarks/bench_data.py --images 1024 --epochs 3

Writes ImageNet-format shards of the scikit-image photos resized to 500x375 (random crops of
each photo so the JPEGs differ) to a temp dir, then measures images/s of
  - decode-only: read shards + parse + tf.io.decode_jpeg, same interleave/AUTOTUNE parallelism;
  - get_dataset("imagenet", "train", model=resnet50, augmentation=inception): read +
    decode-and-crop + inception crop/resize/flip + normalise + batch;
and prints a markdown table. Numbers depend on the CPU; compare ratios within one run.
"""

import argparse
import os
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from keras_classics.data import build_tfrecords, get_dataset  # noqa: E402
from keras_classics.data.decoders import IMAGENET_FEATURES  # noqa: E402

PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "immunohistochemistry", "hubble_deep_field",
          "retina", "cat", "colorwheel")


def write_shards(out, count, num_shards):
    import skimage.data
    rng = np.random.default_rng(0)
    src = [getattr(skimage.data, n)()[..., :3] for n in PHOTOS]
    folder = os.path.join(out, "folder", "n01440764")
    os.makedirs(folder)
    for i in range(count):
        image = src[i % len(src)]
        h, w = image.shape[:2]
        ch, cw = int(h * rng.uniform(0.7, 1)), int(w * rng.uniform(0.7, 1))
        y, x = rng.integers(0, h - ch + 1), rng.integers(0, w - cw + 1)
        crop = tf.image.resize(image[y:y + ch, x:x + cw], (375, 500)).numpy()
        with open(os.path.join(folder, f"{i:06d}.JPEG"), "wb") as f:
            f.write(tf.io.encode_jpeg(crop.round().clip(0, 255).astype(np.uint8),
                                      quality=90).numpy())
    shards = os.path.join(out, "shards")
    build_tfrecords.build(os.path.join(out, "folder"), shards, "train", num_shards,
                          verbose=False)
    return shards


def decode_only(shards):
    files = tf.data.Dataset.list_files(os.path.join(shards, "train-*"), shuffle=False)
    ds = files.interleave(lambda f: tf.data.TFRecordDataset(f, buffer_size=8 << 20),
                          cycle_length=16, num_parallel_calls=tf.data.AUTOTUNE,
                          deterministic=False)

    def decode(serialized):
        f = tf.io.parse_single_example(serialized, IMAGENET_FEATURES)
        return tf.shape(tf.io.decode_jpeg(f["image/encoded"], channels=3))[0]

    return ds.map(decode, num_parallel_calls=tf.data.AUTOTUNE,
                  deterministic=False).prefetch(tf.data.AUTOTUNE)


def rate(make, epochs):
    """Images/s over `epochs` passes after one warm-up pass."""
    for _ in make():
        pass
    n, start = 0, time.perf_counter()
    for _ in range(epochs):
        for x in make():
            n += int(tf.shape(x[0] if isinstance(x, tuple) else x)[0]) \
                if isinstance(x, tuple) else 1
    return n / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=1024)
    parser.add_argument("--shards", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=2, help="alternating measurement rounds")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        shards = write_shards(tmp, args.images, args.shards)

        def pipeline():
            ds, _ = get_dataset("imagenet", "train", model="resnet50", training=True,
                                global_batch_size=args.batch, data_dir=shards,
                                augmentation="inception", shuffle_buffer=1024)
            return ds

        limit, train = [], []
        for _ in range(args.rounds):  # alternate so a noisy neighbour hits both alike
            limit.append(rate(lambda: decode_only(shards), args.epochs))
            train.append(rate(pipeline, args.epochs))
    lim, tr = max(limit), max(train)
    print(f"\n{os.cpu_count()} CPU cores, {args.images} JPEGs 500x375 in {args.shards} shards, "
          f"best of {args.rounds} rounds x {args.epochs} epochs\n")
    print("| pipeline | images/s | of decode-only |")
    print("|---|---:|---:|")
    print(f"| decode-only limit (read + parse + decode_jpeg) | {lim:.0f} | 100% |")
    print(f"| training: read + decode-and-crop + inception aug + normalise + batch "
          f"{args.batch} | {tr:.0f} | {100 * tr / lim:.0f}% |")


if __name__ == "__main__":
    main()
