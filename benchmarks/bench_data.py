"""Training-pipeline throughput vs the decode-only limit on ImageNet-size real JPEG shards.

    PYTHONPATH=. python benchmarks/bench_data.py --images 1024 --epochs 3

Writes ImageNet-format shards of the scikit-image photos resized to 500x375 (random crops of
each photo so the JPEGs differ) to a temp dir, then measures images/s of
  - decode-only: read shards + parse + tf.io.decode_jpeg, with the interleave, map parallelism
    (AUTOTUNE), tf.data options and batch size of the training pipeline;
  - get_dataset("imagenet", "train", model=resnet50, augmentation=inception): read +
    decode-and-crop + inception crop/resize/flip + round to uint8 + batch (the model
    normalises on its device);
  - the same with normalize=True: normalised float32 batches (the pipeline before uint8);
  - the same with the modern training pieces, all in the tf.data pipeline: + RandAugment 2,9
    (per image), + MixUp 0.2 / CutMix 1.0 (per batch), + random erasing 0.25 (per image);
  - RandAugment's two forms on the same reading (augment + RandAugment 2,9): only the chosen
    operations (keras_classics/data/randaugment.py) and Keras' own transform_images, which
    runs all 11 operations per step and keeps the chosen;
  - with --stages, the cumulative steps of the inception path on the same reading;
each dataset built once and iterated every epoch (as model.fit does), the measurements
alternating round by round, and prints a markdown table. Numbers depend on the CPU; compare
ratios within one run.
"""

import argparse
import os
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# The TensorFlow settings train/main.py runs with (see the comments there); override them from
# the shell to measure TensorFlow's defaults.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
os.environ.setdefault("TF_CPU_ALLOCATOR_USE_BFC", "true")

import numpy as np
import tensorflow as tf

from keras_classics import get_spec, preprocess_input
from keras_classics.data import build_tfrecords, get_dataset, randaugment
from keras_classics.data import train_preprocessing as tp
from keras_classics.data.decoders import IMAGENET_FEATURES
from keras_classics.data.mixing import Mixing

PHOTOS = (
    "astronaut",
    "chelsea",
    "coffee",
    "rocket",
    "immunohistochemistry",
    "hubble_deep_field",
    "retina",
    "cat",
    "colorwheel",
)


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
        crop = tf.image.resize(image[y : y + ch, x : x + cw], (375, 500)).numpy()
        with open(os.path.join(folder, f"{i:06d}.JPEG"), "wb") as f:
            f.write(
                tf.io.encode_jpeg(crop.round().clip(0, 255).astype(np.uint8), quality=90).numpy()
            )
    shards = os.path.join(out, "shards")
    build_tfrecords.build(os.path.join(out, "folder"), shards, "train", num_shards, verbose=False)
    return shards


def _options(ds):
    """The tf.data options get_dataset sets: both sides run under the same threading."""
    options = tf.data.Options()
    options.deterministic = False
    options.threading.max_intra_op_parallelism = 1
    options.experimental_optimization.map_parallelization = True
    return ds.with_options(options)


def _records(shards):
    """The shard reading of sources/tfrecord.py: interleave 16 files, AUTOTUNE, unordered."""
    files = tf.data.Dataset.list_files(os.path.join(shards, "train-*"), shuffle=False)
    return files.interleave(
        lambda f: tf.data.TFRecordDataset(f, buffer_size=8 << 20),
        cycle_length=16,
        num_parallel_calls=tf.data.AUTOTUNE,
        deterministic=False,
    )


def _encoded(serialized):
    return tf.io.parse_single_example(serialized, IMAGENET_FEATURES)["image/encoded"]


def stage_dataset(shards, batch, fn):
    """read + parse + fn(encoded, seed) per image, same map parallelism, batch, prefetch."""
    seeds = tf.data.Dataset.random(seed=0).batch(2)
    ds = tf.data.Dataset.zip((_records(shards), seeds))
    ds = ds.map(
        lambda s, seed: fn(_encoded(s), seed),
        num_parallel_calls=tf.data.AUTOTUNE,
        deterministic=False,
    )
    return _options(ds.batch(batch, drop_remainder=True).prefetch(tf.data.AUTOTUNE))


def decode_only(shards, batch):
    """The limit: read + parse + tf.io.decode_jpeg of the whole image (its height is kept so
    that the decoded images, of different sizes, can be batched)."""
    ds = _records(shards).map(
        lambda s: tf.shape(tf.io.decode_jpeg(_encoded(s), channels=3))[0],
        num_parallel_calls=tf.data.AUTOTUNE,
        deterministic=False,
    )
    return _options(ds.batch(batch, drop_remainder=True).prefetch(tf.data.AUTOTUNE))


def _window(data, seed, size=224):
    shape = tf.cast(tf.image.extract_jpeg_shape(data)[:2], tf.int32)
    return tp.inception_window(shape, size, seed)


# Cumulative stages of the inception training path (train_preprocessing.augment on JPEG
# bytes, then normalization.normalize), to show where the time goes (--stages).
STAGES = {
    "decode-and-crop (inception window)": lambda data, seed: tf.shape(
        tf.image.decode_and_crop_jpeg(data, _window(data, seed), channels=3)
    )[0],
    "+ resize 224 (bilinear, float32)": lambda data, seed: tf.image.resize(
        tf.image.decode_and_crop_jpeg(data, _window(data, seed), channels=3), [224, 224]
    ),
    "+ flip of the uint8 crop (= augment)": lambda data, seed: tp.augment(
        data, "inception", 224, seed
    ),
    "+ normalise per image, preprocess_input (before)": lambda data, seed: preprocess_input(
        tp.augment(data, "inception", 224, seed), "torch"
    ),
    "+ normalise per image, fused (train_preprocess)": lambda data, seed: tp.train_preprocess(
        data, get_spec("resnet50"), 224, "inception", seed
    ),
    "augment + round to uint8 (train_preprocess, normalize=False)": lambda data, seed: (
        tp.train_preprocess(data, get_spec("resnet50"), 224, "inception", seed, normalize=False)
    ),
}


def keras_rand_augment(num_ops, magnitude):
    """randaugment.rand_augment with keras.layers.RandAugment's own transform_images."""
    import keras

    layer = randaugment._PerImageRandAugment(
        value_range=(0, 255), num_ops=num_ops, factor=magnitude / randaugment.MAX_MAGNITUDE
    )

    def step(image, seed):
        layer.seeds = randaugment._Seeds(seed)
        t = layer.get_random_transformation(image[None], training=True)
        return keras.layers.RandAugment.transform_images(layer, image[None], t)[0]

    return step


RAND_AUGMENT_FORMS = {
    "augment + RandAugment 2,9, only the chosen operations (this package)": (
        randaugment.rand_augment
    ),
    "augment + RandAugment 2,9, Keras' transform_images (all 11 operations)": keras_rand_augment,
}


def rate(ds, epochs):
    """(images per wall second, images per CPU second of this process) over `epochs` passes
    of one dataset after one warm-up pass (model.fit also builds the dataset once and iterates
    it every epoch). On a machine shared with other jobs the CPU-time rate is the steadier
    measure of the pipeline's cost; the wall-clock rate is what training sees."""
    for _ in ds:
        pass
    n, start, cpu = 0, time.perf_counter(), time.process_time()
    for _ in range(epochs):
        for x in ds:
            n += int((x[0] if isinstance(x, tuple) else x).shape[0])
    return n / (time.perf_counter() - start), n / (time.process_time() - cpu)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=1024)
    parser.add_argument("--shards", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=2, help="alternating measurement rounds")
    parser.add_argument(
        "--stages",
        action="store_true",
        help="also measure the cumulative stages of the inception path",
    )
    parser.add_argument(
        "--rand_augment_forms",
        action="store_true",
        help="also measure RandAugment's two forms (only the chosen operations, Keras' all)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        shards = write_shards(tmp, args.images, args.shards)

        def pipeline(normalize, **pieces):
            return get_dataset(
                "imagenet",
                "train",
                model="resnet50",
                training=True,
                global_batch_size=args.batch,
                data_dir=shards,
                augmentation="inception",
                shuffle_buffer=1024,
                normalize=normalize,
                **pieces,
            )[0]

        ra, mix = {"randaugment": (2, 9)}, {"mix": Mixing(mixup=0.2, cutmix=1.0)}
        runs = {
            "limit": decode_only(shards, args.batch),
            "train": pipeline(False),
            "train_float32": pipeline(True),
            "train_ra": pipeline(False, **ra),
            "train_ra_mix": pipeline(False, **ra, **mix),
            "train_ra_mix_erase": pipeline(False, **ra, **mix, random_erasing=0.25),
        }
        if args.rand_augment_forms:
            for name, make in RAND_AUGMENT_FORMS.items():
                step = make(2, 9)
                runs[name] = stage_dataset(
                    shards,
                    args.batch,
                    lambda data, seed, step=step: tp.augment(
                        data, "inception", 224, seed, extra_steps=(step,)
                    ),
                )
        if args.stages:
            runs.update(
                (name, stage_dataset(shards, args.batch, fn)) for name, fn in STAGES.items()
            )
        rates = {name: [] for name in runs}
        for _ in range(args.rounds):  # alternate so a noisy neighbour hits all alike
            for name, ds in runs.items():
                rates[name].append(rate(ds, args.epochs))
    best = {name: max(r[0] for r in rs) for name, rs in rates.items()}
    cpu = {name: max(r[1] for r in rs) for name, rs in rates.items()}
    print(
        f"\n{os.cpu_count()} CPU cores, {args.images} JPEGs 500x375 in {args.shards} shards, "
        f"best of {args.rounds} rounds x {args.epochs} epochs, batch {args.batch}\n"
    )
    print("| pipeline | images/s | of decode-only | images/CPU-s | of decode-only |")
    print("|---|---:|---:|---:|---:|")
    names = {
        "limit": "decode-only limit (read + parse + decode_jpeg)",
        "train": f"training: read + decode-and-crop + inception aug + uint8 + batch {args.batch}",
        "train_float32": "the same, normalize=True: normalised float32 batches (before)",
        "train_ra": "training + RandAugment 2,9 (per image)",
        "train_ra_mix": "training + RandAugment 2,9 + MixUp 0.2 / CutMix 1.0 (per batch)",
        "train_ra_mix_erase": "training + RandAugment + MixUp/CutMix + random erasing 0.25",
    }
    names.update((name, f"stage: {name}") for name in STAGES)
    names.update((name, f"stage: {name}") for name in RAND_AUGMENT_FORMS)
    for name in rates:
        print(
            f"| {names[name]} | {best[name]:.0f} | {100 * best[name] / best['limit']:.0f}% "
            f"| {cpu[name]:.0f} | {100 * cpu[name] / cpu['limit']:.0f}% |"
        )
    print(
        "\nall rounds (images/s, images/CPU-s): "
        + "; ".join(
            f"{name}: {', '.join(f'{w:.0f}/{c:.0f}' for w, c in rates[name])}" for name in rates
        )
    )


if __name__ == "__main__":
    main()
