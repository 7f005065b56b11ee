"""The training program's launcher: TensorFlow's environment, a quiet import, then the CLI.

train/main.py and the keras-classics-train console script run `main`. It is a top-level
module, not part of the keras_classics package, because importing anything inside the package
imports Keras and so TensorFlow, and these settings must be made before TensorFlow loads.
"""

import glob
import os

# TensorFlow reads these once, when it loads: they are set before the first import.
# oneDNN: TensorFlow turns its kernels on by default only on CPUs with AVX512-VNNI/AMX; on others
# training falls back to Eigen's convolution gradients, several times slower a step (README, the
# default run). TF_ENABLE_ONEDNN_OPTS=0 in the environment still wins.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
# TensorFlow's pooling (BFC) allocator for CPU memory: the input pipeline's fresh image and
# batch buffers otherwise page-fault on every batch through glibc's mmap (docs/data.md); no
# change to the model's step time.
os.environ.setdefault("TF_CPU_ALLOCATOR_USE_BFC", "true")


def import_tensorflow():
    """Imports TensorFlow; without an NVIDIA device node, without its CUDA start-up noise.

    On a machine without NVIDIA GPUs (no /dev/nvidia*) a CUDA build of TensorFlow prints that it
    found no CUDA driver ("Could not find cuda drivers", at import) and that cuInit failed (an
    ERROR line, when the devices are listed): true and of no use there. The import-time lines
    are written by C++ code before its logging is initialised, so TF_CPP_MIN_LOG_LEVEL does not
    reach them and the import runs with file descriptor 2 pointed at /dev/null (a failed import
    still raises its Python exception after stderr is restored); level 3 hides the cuInit line.
    With a device node nothing is hidden: there those lines diagnose a broken CUDA set-up.
    """
    if glob.glob("/dev/nvidia[0-9]*"):
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        import tensorflow

        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        import tensorflow  # noqa: F401
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def main():
    import_tensorflow()
    from keras_classics.training import cli

    cli.main()


if __name__ == "__main__":
    main()
