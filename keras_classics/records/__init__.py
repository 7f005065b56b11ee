"""The bottom layer: records and I/O, no Keras or TensorFlow.

The input record (input_config.py), the model registry's store (registry.py: ModelSpec and
its ReplicaCheck), the training records a family module gives (recipe.py, augmentation.py),
the ImageNet class index (imagenet.py), downloads into the cache (download.py), atomic file
writes (fileio.py), the lazy faces' attribute lookup (lazy.py) and the version (version.py).
Everything above reads these; they import nothing of the package above them.
"""
