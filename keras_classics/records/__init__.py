"""The bottom layer: records and I/O, no Keras or TensorFlow.

The input record (input_config.py), the model registry's store (registry.py), the ImageNet
class index (imagenet.py), downloads into the cache (download.py) and atomic file writes
(fileio.py). Everything above reads these; they import nothing of the package above them.
"""
