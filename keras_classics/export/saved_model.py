"""SavedModel writer: <output_dir>/<name>/<version>/, the layout TF Serving watches.

A version folder is never overwritten, and it appears in one rename of a finished, checked
temporary folder beside it (".tmp-<version>-*": TF Serving only loads folders named by an
integer), so the server never loads a half-written export.
"""

import json
import os
import shutil
import tempfile

from keras_classics.export import graph_check, models_config

METADATA = os.path.join("assets.extra", "keras_classics.json")


def next_version(model_dir):
    """One more than the highest version in `model_dir`; 1 for a new model."""
    return max(models_config.versions(model_dir), default=0) + 1


def check_version(version, model_dir):
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ValueError(
            f"version={version!r} is invalid; accepted: a positive integer "
            "(or None for the next free version)."
        )
    path = os.path.join(model_dir, str(version))
    if os.path.exists(path):
        raise ValueError(
            f"version={version} already exists at {path!r}; accepted: a version "
            f"not yet exported (next free: {next_version(model_dir)}) or None. "
            "Exports are never overwritten: TF Serving may be serving it."
        )


def save_functions(functions, path):
    """tf.saved_model.save of `functions` ({signature name: (fn, input_signature)}), each
    traced once, with the variables they capture.

    A plain tf.Module holding the variables, not keras.export.ExportArchive: the archive
    traces every endpoint twice and the model's layers once more (measured here: 10 s against
    3 s for ResNet-18), which the export test over the whole registry cannot afford. The
    SavedModel holds the traced graphs and the variables, nothing of Keras.
    """
    import tensorflow as tf

    signatures = {
        name: tf.function(fn, input_signature=signature, autograph=False).get_concrete_function()
        for name, (fn, signature) in functions.items()
    }
    module = tf.Module()
    # The tf.Variables the graphs capture, not the Keras wrappers around them: tracking the
    # wrappers saves the values, but the TFLite converter then cannot freeze the captured
    # handles (READ_VARIABLE fails at calibration).
    captured = {}
    for function in signatures.values():
        captured.update({id(v): v for v in function.variables})
    module.model_variables = list(captured.values())
    tf.saved_model.save(module, path, signatures=signatures)


def write_archive(classifier, path):
    """Writes the SavedModel of `classifier` (both signatures) into the empty folder `path`,
    with its metadata in assets.extra (copied with the model, ignored by TF Serving)."""
    save_functions(
        {
            name: (getattr(classifier, name), signature)
            for name, signature in classifier.input_signatures().items()
        },
        path,
    )
    os.makedirs(os.path.join(path, os.path.dirname(METADATA)), exist_ok=True)
    with open(os.path.join(path, METADATA), "w", encoding="utf-8") as f:
        json.dump(classifier.metadata(), f, indent=2)


def write(classifier, output_dir, name=None, version=None, config=True):
    """Writes `classifier` (a signatures.Classifier) as <output_dir>/<name>/<version>/.

    Args:
      name: folder and TF Serving model name; default the spec's registry name.
      version: positive integer not yet used; default the next free version.
      config: rewrite <output_dir>/models.config to list every exported model.
    Returns:
      the version folder's path.
    """
    name = name or classifier.spec.name
    model_dir = os.path.join(output_dir, name)
    if version is None:
        version = next_version(model_dir)
    check_version(version, model_dir)
    os.makedirs(model_dir, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=f".tmp-{version}-", dir=model_dir)
    final = os.path.join(model_dir, str(version))
    try:
        write_archive(classifier, tmp)
        graph_check.check(tmp)
        os.chmod(tmp, 0o755)  # mkdtemp's 0o700 would hide the model from a server user
        # Checked again right before the rename: another export may have taken the version
        # meanwhile, and rename() would replace an empty folder.
        check_version(version, model_dir)
        os.rename(tmp, final)
    finally:
        if os.path.exists(tmp):
            shutil.rmtree(tmp)
    if config:
        models_config.write(output_dir)
    return final
