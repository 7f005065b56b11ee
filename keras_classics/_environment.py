"""TensorFlow's environment for the command lines, applied before TensorFlow loads.

Every command line (`python -m keras_classics`, `.train`, `.export`, `.convert`, train/main.py
and their console scripts) calls `apply()` first thing. It imports nothing from TensorFlow or
Keras at module level (nor from keras_classics): TensorFlow reads these settings once, when it
loads, and the package face is lazy (keras_classics/__init__.py) so that nothing has loaded it
before.
"""

import glob
import os


def set_variables():
    """The variables TensorFlow reads when it loads; a value already in the environment wins."""
    # oneDNN: TensorFlow turns its kernels on by default only on CPUs with AVX512-VNNI/AMX; on
    # others training falls back to Eigen's convolution gradients, several times slower a step
    # (docs/results.md, the default run). TF_ENABLE_ONEDNN_OPTS=0 in the environment still wins.
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
    still raises its Python exception after stderr is restored); level 3 hides the cuInit line
    and the oneDNN and CPU-instruction notices. With a device node nothing is hidden but INFO:
    there those lines diagnose a broken CUDA set-up.
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


def apply():
    """set_variables(), then import_tensorflow(): what a command line does before anything
    else (its --help included: TensorFlow loads through the registry for most of them)."""
    set_variables()
    import_tensorflow()
