"""`get_dataset`: source -> checked records -> decode-and-crop + augmentation -> batches.

Bad data: every record goes through cheap checks (decoders.check_encoded, label range, synset)
that name it. Without skip_errors a bad record stops the epoch with an InvalidArgumentError
naming the record and the reason; with skip_errors it is dropped, named on stderr and counted
in DatasetInfo's counters. Damage the byte checks cannot see (a JPEG whose header parses but
whose data does not) makes the decoder op fail: dropped and counted as "undecodable" with
skip_errors; without it TensorFlow's decoder error ends the epoch, and `find_bad_records`
names the file (per-record isolation costs about 0.6 ms of CPU per image, so it is a diagnosis
tool, not part of the training pipeline).
"""

import dataclasses
import sys
from typing import Optional

import tensorflow as tf

from keras_classics.data import (
    decoders,
    erasing,
    eval_preprocessing,
    mixing,
    randaugment,
    sources,
    train_preprocessing,
)
from keras_classics.models import ModelSpec, get_spec
from keras_classics.records.input_config import InputConfig

AUTOTUNE = tf.data.AUTOTUNE
DEFAULT_SHUFFLE_BUFFER = 10_000


@dataclasses.dataclass
class DatasetInfo:
    """What the training program needs to know about a dataset from get_dataset."""

    num_classes: int
    class_names: list
    num_examples: Optional[int]
    # How this run's inputs are prepared: the model's InputConfig at the run's image size,
    # with the source's evaluation crop (1.0 for whole-frame sources such as Fashion-MNIST).
    # Training records it and the export serves the same.
    input: InputConfig
    augmentation: Optional[str]
    source: str
    split: str
    _counters: Optional[dict] = dataclasses.field(default=None, repr=False)

    @property
    def image_size(self):
        return self.input.size

    @property
    def crop_ratio(self):
        return self.input.crop_ratio

    def skipped(self):
        """{reason: records dropped so far} with skip_errors (cumulative over epochs; exact
        once an epoch's iteration has finished). Empty without skip_errors."""
        if self._counters is None:
            return {}
        bad = self._counters["bad"].numpy()
        undecodable = self._counters["seen"].numpy() - bad.sum() - self._counters["out"].numpy()
        counts = {r: int(bad[i]) for i, r in enumerate(decoders.REASONS) if i and bad[i]}
        if undecodable > 0:
            counts["undecodable"] = int(undecodable)
        return counts

    def summary(self):
        counts = self.skipped()
        if not counts:
            return f"{self.source}/{self.split}: no records skipped."
        parts = ", ".join(f"{n} {r}" for r, n in sorted(counts.items()))
        return f"{self.source}/{self.split}: skipped {sum(counts.values())} records ({parts})."

    def callback(self):
        """A Keras callback printing `summary()` at the end of every epoch."""
        import keras

        info = self

        class SkippedRecordsSummary(keras.callbacks.Callback):
            def on_epoch_end(self, epoch, logs=None):
                print(f"epoch {epoch + 1}: {info.summary()}", file=sys.stderr)

        return SkippedRecordsSummary()


def _spec(model):
    if isinstance(model, ModelSpec):
        return model
    if isinstance(model, str):
        return get_spec(model)
    raise TypeError(f"model={model!r} is invalid; accepted: a registry name or a ModelSpec.")


def _positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name}={value!r} is invalid; accepted: a positive integer.")


def _counters():
    with tf.init_scope(), tf.device("/cpu:0"):

        def var(shape):
            return tf.Variable(tf.zeros(shape, tf.int64), trainable=False)

        return {"seen": var([]), "bad": var([len(decoders.REASONS)]), "out": var([])}


def check_record(rec, src):
    """(code, detail) of a parsed record: the parser's finding, then byte, label, synset."""
    code, detail = rec["code"], rec["detail"]
    if src.encoded:
        c, d = decoders.check_encoded(rec["image"])
        first = tf.equal(code, 0)
        code, detail = tf.where(first, c, code), tf.where(first, d, detail)
    label = rec["label"]
    bad_label = tf.equal(code, 0) & ((label < 0) | (label >= src.num_classes))
    code = tf.where(bad_label, decoders.CODE["label_out_of_range"], code)
    detail = tf.where(
        bad_label,
        tf.strings.format("label {} is outside [0, {})", (label, src.num_classes)),
        detail,
    )
    if src.check_synset:
        names = tf.constant(src.class_names)
        expected = tf.gather(names, tf.clip_by_value(label, 0, src.num_classes - 1))
        mismatch = (
            tf.equal(code, 0)
            & (tf.strings.length(rec["synset"]) > 0)
            & tf.not_equal(expected, rec["synset"])
        )
        code = tf.where(mismatch, decoders.CODE["synset_mismatch"], code)
        detail = tf.where(
            mismatch,
            tf.strings.join(
                [
                    "label ",
                    tf.strings.as_string(label),
                    " is class ",
                    expected,
                    " but image/class/synset is ",
                    rec["synset"],
                    " (check label_offset)",
                ]
            ),
            detail,
        )
    return code, detail


def _unpack(fn, raw):
    return fn(*raw) if isinstance(raw, tuple) else fn(raw)


def get_dataset(
    source,
    split,
    *,
    model,
    global_batch_size,
    training,
    image_size=None,
    data_dir=None,
    augmentation=None,
    seed=None,
    epoch=None,
    deterministic=False,
    skip_errors=False,
    label_offset=None,
    ten_crop=False,
    input_context=None,
    shuffle_buffer=DEFAULT_SHUFFLE_BUFFER,
    input_config=None,
    normalize=False,
    randaugment=None,
    random_erasing=0.0,
    mix=None,
    classes=None,
):
    """Batched (images, labels) for model.fit, cropped and augmented as the model's spec asks.

    The images leave the pipeline as uint8 pixels, a quarter of the bytes of float32: the
    training program normalises them on the device that runs the model
    (keras_classics.layers.InputNormalization in front of it). normalize=True gives the
    model-ready float32 batches of before (the same as
    `preprocess_input(tf.cast(images, "float32"), info.input.mode)`, but for the rounding of
    the resized pixels to whole levels).

    Args:
      source: "fashion_mnist" (bundled default), "imagenet" (TFRecord shards in data_dir),
        "folder" (class sub-folders in data_dir) or "tfds:NAME".
      split: "train", "validation" or "test".
      model: registry name or ModelSpec: its InputConfig (size, crop ratio, interpolation,
        preprocessing mode) and the family's default augmentation.
      global_batch_size: batch size over all replicas (MirroredStrategy splits it); with
        `input_context` (distribute_datasets_from_function) the per-replica share is used.
      training: shuffle, augment, drop the last partial batch; else the eval centre crop.
      image_size: input side; default the spec's input size, or the source's
        (SourceDefaults: Fashion-MNIST's max(32, min_size)).
      augmentation: a key of train_preprocessing.AUGMENTATIONS; default the source's
        (Fashion-MNIST: "pad_crop"), else the family's.
      seed: with deterministic=True, equal seeds give equal datasets, epoch by epoch.
      epoch: with training, the data of that one epoch: order and augmentation are a pure
        function of (seed, epoch), however often or by whom the dataset is iterated (a
        distribution strategy may open an iterator before fit's). A resumed run rebuilds
        epoch e exactly. Without it, each new iteration reshuffles (epoch after epoch).
      deterministic: keep the order of parallel reading and mapping (slower).
      skip_errors: drop and count bad records (DatasetInfo.skipped) instead of failing.
      label_offset: subtracted from TFRecord labels: 1 for 1..1000 files, 0 for 0-based; None
        reads it from the shards' dataset_info.json or fails.
      ten_crop: eval only: images [B, 10, S, S, 3] (eval_preprocessing.ten_crop_predict).
      input_context: tf.distribute.InputContext: shard by input pipeline.
      shuffle_buffer: records in the shuffle buffer (ImageNet: about 110 kB each).
      input_config: the InputConfig to prepare images with in place of the spec's (a
        converted weights file's WeightsInfo.input); image_size and the source's crop still
        apply.
      normalize: False: uint8 RGB pixels in [0, 255], each resized crop rounded to whole
        levels (the training program's input); True: float32 normalised with the
        InputConfig's preprocessing mode, ready for a model without InputNormalization.
      randaugment: training only: (N, M), RandAugment's N operations per image at magnitude
        M of 10 after the augmentation (randaugment.py); None: off.
      random_erasing: training only: the probability of erasing a box of each image, last
        (erasing.py); 0: off.
      mix: training only: a mixing.Mixing (MixUp / CutMix of whole batches); then the labels
        are float32 [B, num_classes] mixtures of one-hot labels.
      classes: a class subset, 0-based class indices of the source (fashion_mnist, folder):
        only their examples, relabelled 0..k-1 in the order given; class_names follow.
    Returns:
      (tf.data.Dataset of (uint8 [B, S, S, 3], int32 [B]) (float32 with normalize=True;
      [B, 10, S, S, 3] with ten_crop; float32 [B, K] labels with mix), DatasetInfo).
    """
    spec = _spec(model)
    _positive_int("global_batch_size", global_batch_size)
    if not isinstance(training, bool):
        raise ValueError(f"training={training!r} is invalid; accepted: True or False.")
    if ten_crop and training:
        raise ValueError(
            "ten_crop=True is invalid with training=True; accepted: ten_crop for evaluation only."
        )
    _positive_int("shuffle_buffer", shuffle_buffer)
    if not isinstance(normalize, bool):
        raise ValueError(f"normalize={normalize!r} is invalid; accepted: True or False.")
    src = sources.load(
        source,
        split,
        data_dir,
        label_offset=label_offset,
        training=training,
        seed=seed,
        input_context=input_context,
        deterministic=deterministic,
        classes=classes,
    )
    base = spec.input if input_config is None else input_config
    if image_size is None:
        image_size = (
            base.size
            if src.defaults.image_size is None
            else max(src.defaults.image_size, spec.min_size)
        )
    if (
        isinstance(image_size, bool)
        or not isinstance(image_size, int)
        or image_size < spec.min_size
    ):
        raise ValueError(
            f"image_size={image_size!r} is invalid for {spec.name}; accepted: an "
            f"integer >= {spec.min_size} (the model's min_size)."
        )
    if training:
        if augmentation is None:
            augmentation = src.defaults.augmentation or train_preprocessing.default_augmentation(
                spec
            )
        train_preprocessing.check_augmentation(augmentation)
    elif randaugment or random_erasing or (mix is not None and mix.on):
        raise ValueError(
            f"randaugment={randaugment!r}, random_erasing={random_erasing!r}, mix={mix!r} "
            "with training=False; accepted: training augmentations with training=True only."
        )
    extra_steps = []
    if randaugment is not None:
        extra_steps.append(_rand_augment_step(randaugment))
    if random_erasing:
        extra_steps.append(erasing.random_erasing(random_erasing))
    config = base.replace(size=image_size, crop_ratio=src.defaults.crop_ratio or base.crop_ratio)
    batch_size = global_batch_size
    if input_context is not None:
        batch_size = input_context.get_per_replica_batch_size(global_batch_size)

    records = src.records
    if input_context is not None and not src.sharded:
        records = records.shard(input_context.num_input_pipelines, input_context.input_pipeline_id)
    if training:
        fresh_each_iteration = epoch is None
        if epoch is not None:
            seed = (seed or 0) * 1_000_003 + epoch
        records = records.shuffle(
            shuffle_buffer, seed=seed, reshuffle_each_iteration=fresh_each_iteration
        )
        seeds = tf.data.Dataset.random(
            seed=seed, rerandomize_each_iteration=fresh_each_iteration
        ).batch(2)
    else:
        seeds = tf.data.Dataset.from_tensors(tf.zeros([2], tf.int64)).repeat()
    ds = tf.data.Dataset.zip((records, seeds))
    counters = _counters() if skip_errors else None
    out_shape = [10, image_size, image_size, 3] if ten_crop else [image_size, image_size, 3]

    out_dtype = tf.float32 if normalize else tf.uint8

    def preprocess(image, seed):
        if training:
            return train_preprocessing.train_preprocess(
                image,
                config,
                image_size,
                augmentation,
                seed,
                normalize=normalize,
                extra_steps=extra_steps,
            )
        if ten_crop:
            return eval_preprocessing.ten_crop_preprocess(image, config, normalize=normalize)
        return eval_preprocessing.eval_preprocess(image, config, normalize=normalize)

    def process(raw, seed):
        deps = [counters["seen"].assign_add(1)] if skip_errors else []
        with tf.control_dependencies(deps):
            rec = _unpack(src.parse, raw)
        code, detail = check_record(rec, src)
        ok = tf.equal(code, 0)
        label = tf.cast(rec["label"], tf.int32)
        if not skip_errors:
            message = tf.strings.join(
                [
                    "Bad record ",
                    rec["id"],
                    ": ",
                    detail,
                    ". Pass skip_errors=True to drop and count such records.",
                ]
            )
            with tf.control_dependencies([tf.debugging.Assert(ok, [message])]):
                return preprocess(rec["image"], seed), label, ok

        def dropped():
            count = counters["bad"].assign_add(
                tf.one_hot(code, len(decoders.REASONS), dtype=tf.int64)
            )
            log = tf.print(
                "keras_classics.data: skipped", rec["id"], ":", detail, output_stream=sys.stderr
            )
            with tf.control_dependencies([count, log]):
                return tf.zeros(out_shape, out_dtype)

        image = tf.cond(ok, lambda: preprocess(rec["image"], seed), dropped)
        return image, label, ok

    ds = ds.map(process, num_parallel_calls=AUTOTUNE, deterministic=deterministic)
    if skip_errors:
        ds = ds.filter(lambda image, label, ok: ok).ignore_errors()

        def count_out(image, label, ok):
            with tf.control_dependencies([counters["out"].assign_add(1)]):
                return tf.identity(image), label

        ds = ds.map(count_out)
    else:
        ds = ds.map(lambda image, label, ok: (image, label))
    ds = ds.batch(
        batch_size,
        drop_remainder=training,
        num_parallel_calls=AUTOTUNE,
        deterministic=deterministic,
    )
    if mix is not None and mix.on:
        if normalize:
            raise ValueError(
                "mix with normalize=True is not supported; accepted: mix on the uint8 "
                "batches (normalize=False)."
            )
        ds = mixing.mix_dataset(ds, src.num_classes, seed, mix, fresh_each_iteration)
    ds = ds.prefetch(AUTOTUNE)
    options = tf.data.Options()
    options.deterministic = deterministic
    options.threading.max_intra_op_parallelism = 1
    options.experimental_optimization.map_parallelization = True
    if input_context is not None or src.sharded:
        # Already sharded here; strategies must not shard again.
        options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.OFF
    ds = ds.with_options(options)
    info = DatasetInfo(
        src.num_classes,
        list(src.class_names),
        src.num_examples,
        config,
        augmentation if training else None,
        src.name,
        split,
        _counters=counters,
    )
    return ds, info


def _rand_augment_step(value):
    n, m = randaugment.check_randaugment(value)
    return randaugment.rand_augment(n, m)


def find_bad_records(source, split, *, data_dir=None, label_offset=None, model="resnet18"):
    """[(record id, reason)] of every record the pipeline would reject, each one decoded in
    isolation so that decoder failures are named too. Slow (a diagnosis tool)."""
    src = sources.load(source, split, data_dir, label_offset=label_offset)
    spec = _spec(model)
    size = max(spec.min_size, 32)

    def good(*raw):
        rec = _unpack(src.parse, raw)
        code, detail = check_record(rec, src)
        image = eval_preprocessing.center_crop(rec["image"], size, 1.0)
        with tf.control_dependencies([image]):
            return rec["id"], tf.where(tf.equal(code, 0), "", detail)

    def undecodable(*raw):
        rid = _unpack(src.raw_id, raw) if src.raw_id else tf.constant("?")
        return rid, tf.constant("cannot be parsed or decoded (corrupt data)")

    def one(*raw):
        first = tf.data.Dataset.from_tensors(raw).map(lambda *r: good(*r)).ignore_errors()
        fallback = tf.data.Dataset.from_tensors(raw).map(lambda *r: undecodable(*r))
        return first.concatenate(fallback).take(1)

    ds = src.records.flat_map(one).filter(lambda rid, reason: tf.strings.length(reason) > 0)
    return [(r.decode(), why.decode()) for r, why in ds.as_numpy_iterator()]
