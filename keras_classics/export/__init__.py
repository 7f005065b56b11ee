"""Export for TF Serving (SavedModel), TFLite (LiteRT) and ONNX; docs/export.md has the commands.

    from keras_classics import export
    path = export.export_model(model, "resnet50")                # saved_models/resnet50/1
    path = export.export_model(model, "resnet50", format="tflite", quantize="float16")
    path = export.export_model(model, "resnet50", format="onnx", preprocessing=True)

Modules, one concept each: signatures (preprocessing + model + top-k graphs), saved_model (the
versioned, atomic SavedModel writer), graph_check (no PyFunc, no XLA), tflite (conversion and
quantisation), onnx (tf2onnx conversion, onnxruntime runner), models_config (TF Serving's
model_config_list), exporter (the entry points below). `python -m keras_classics.export` is the
command line.

The package is lazy (PEP 562): `python -m keras_classics.export` imports it before its
__main__, which must set TensorFlow's environment (keras_classics/_environment.py) before
TensorFlow loads; a name below loads its module when first asked for.
"""

from keras_classics.records import lazy as _lazy

# Public name -> the module that holds it (a module's own name: the module itself).
_NAMES = {
    "Classifier": "keras_classics.export.signatures",
    "DEFAULT_OUTPUT_DIR": "keras_classics.export.exporter",
    "FORMATS": "keras_classics.export.exporter",
    "QUANTIZATIONS": "keras_classics.export.tflite",
    "check_options": "keras_classics.export.exporter",
    "export_model": "keras_classics.export.exporter",
    "export_trained": "keras_classics.export.exporter",
    "graph_check": "keras_classics.export.graph_check",
    "models_config": "keras_classics.export.models_config",
    "next_version": "keras_classics.export.saved_model",
    "onnx": "keras_classics.export.onnx",
    "saved_model": "keras_classics.export.saved_model",
    "signatures": "keras_classics.export.signatures",
    "tflite": "keras_classics.export.tflite",
    "versions": "keras_classics.export.models_config",
}
__all__ = sorted(_NAMES)


def __getattr__(name):
    return _lazy.attribute(__name__, _NAMES, name)


def __dir__():
    return sorted({*globals(), *_NAMES})
