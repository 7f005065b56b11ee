"""Train a keras_classics model with model.fit under tf.distribute, with its paper's recipe.

    python train/main.py --model resnet18                      # bundled Fashion-MNIST
    python train/main.py --model inception_v4 --dataset imagenet --data_dir /data/tfrecords
    python train/main.py --helpfull                            # every flag

The same command run again resumes from the last epoch's backup in --model_dir.
"""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# TensorFlow turns its oneDNN kernels on by default only on CPUs with AVX512-VNNI/AMX; on
# others (this project's 2-core AMD EPYC) training falls back to Eigen's convolution gradients,
# measured 3.8x slower a ResNet-18 step (5.8 vs 1.5 CPU-s at 32 px, batch 128). Read once when
# TensorFlow loads, so it is set before the first import; TF_ENABLE_ONEDNN_OPTS=0 still wins.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
# TensorFlow's pooling (BFC) allocator for CPU memory: the input pipeline's fresh image and
# batch buffers otherwise page-fault on every batch through glibc's mmap; measured in
# docs/data.md (decode-and-crop + resize + batch: 51% -> 76% of the decode-only rate), no change
# to the model's step time.
os.environ.setdefault("TF_CPU_ALLOCATOR_USE_BFC", "true")

from absl import app, flags  # noqa: E402

import keras_classics  # noqa: E402
from keras_classics.training import distribute, recipes  # noqa: E402
from keras_classics.training.run import SOURCES, RunConfig, train  # noqa: E402

FLAGS = flags.FLAGS
flags.DEFINE_enum("model", None, keras_classics.list_models(), "Registry name of the model.")
flags.DEFINE_string("dataset", "fashion_mnist",
                    f"One of {SOURCES} or tfds:NAME (imagenet = TFRecord shards in --data_dir, "
                    "folder = class sub-folders in --data_dir).")
flags.DEFINE_string("data_dir", None, "Directory of the dataset (imagenet, folder, tfds).")
flags.DEFINE_string("model_dir", None, "Checkpoints, logs, results. Default: runs/<model>.")
flags.DEFINE_integer("epochs", None, "Epochs (default: the recipe's; 3 on fashion_mnist).")
flags.DEFINE_integer("batch_size", None, "Global batch size, split across replicas "
                     "(default: the recipe's; 128 on fashion_mnist).")
flags.DEFINE_integer("image_size", None, "Square input size (default: the model's; on "
                     "fashion_mnist 32 or the model's minimum).")
flags.DEFINE_enum("recipe", None, list(recipes.RECIPE_KINDS),
                  "paper: the model's paper recipe (the default); modern: cosine, warm-up, "
                  "label smoothing (the default on fashion_mnist, whose 3-epoch run needs them).")
flags.DEFINE_float("learning_rate", None, "Base learning rate override (after batch scaling).")
flags.DEFINE_float("weight_decay", None, "Weight decay override.")
flags.DEFINE_bool("mixed_precision", False, "mixed_float16 compute (GPUs).")
flags.DEFINE_bool("jit_compile", False, "XLA-compile the training step.")
flags.DEFINE_bool("sync_batchnorm", False, "BatchNorm statistics over the global batch, "
                  "across replicas.")
flags.DEFINE_enum("strategy", "auto", list(distribute.STRATEGIES),
                  "auto: multi_worker with a TF_CONFIG cluster, mirrored on GPUs, else one "
                  "device.")
flags.DEFINE_integer("num_gpus", None, "Use only the first N visible GPUs.")
flags.DEFINE_integer("cpu_devices", None, "Split the CPU into N logical devices (to try "
                     "MirroredStrategy without GPUs).")
flags.DEFINE_integer("steps_per_epoch", None, "Steps per epoch (default: one pass).")
flags.DEFINE_integer("max_steps", None, "Stop after this many steps in all (smoke runs).")
flags.DEFINE_integer("validation_steps", None, "Validation batches (default: the whole split).")
flags.DEFINE_string("augmentation", None, "Training augmentation: inception, "
                    "inception_color, vgg, resnet, alexnet, pad_crop, none (default: the "
                    "family's paper's; none on fashion_mnist).")
flags.DEFINE_integer("seed", 0, "Random seed: weights, data order, augmentation.")
flags.DEFINE_bool("deterministic", False, "Deterministic ops and data (slower).")
flags.DEFINE_bool("skip_errors", False, "Drop unreadable records, counted per epoch.")
flags.DEFINE_integer("label_offset", None, "Subtracted from TFRecord labels (1 for the "
                     "1-based ImageNet build scripts).")
flags.DEFINE_bool("export", False, "Export the trained model for TF Serving afterwards.")
flags.DEFINE_bool("eval_only", False, "Only evaluate --checkpoint on the validation split.")
flags.DEFINE_string("checkpoint", None, "Weights file to evaluate with --eval_only.")
flags.mark_flag_as_required("model")


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
    if FLAGS.cpu_devices:
        distribute.use_cpu_devices(FLAGS.cpu_devices)
    fields = {f: FLAGS[f].value for f in RunConfig.__dataclass_fields__}
    try:
        train(RunConfig(**fields))
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    app.run(main)
