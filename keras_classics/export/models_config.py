"""models.config for TF Serving: one model_config_list entry per model under saved_models/.

    docker run ... -v "$PWD/saved_models:/models" tensorflow/serving \
        --model_config_file=/models/models.config

Each entry points TF Serving at /models/<name> (the container path of <output_dir>/<name>);
the server serves the highest version there (its default policy) and picks up new versions as
they appear.
"""

import os
import posixpath

from keras_classics.records import fileio

FILENAME = "models.config"
DEFAULT_BASE_PATH = "/models"


def versions(model_dir):
    """Sorted integer version numbers of the SavedModels in `model_dir` (TF Serving's rule:
    a folder whose name is a non-negative integer)."""
    if not os.path.isdir(model_dir):
        return []
    return sorted(
        int(n)
        for n in os.listdir(model_dir)
        if n.isdigit() and os.path.isdir(os.path.join(model_dir, n))
    )


def exported_models(output_dir):
    """Names of the folders of `output_dir` that hold at least one SavedModel version."""
    if not os.path.isdir(output_dir):
        return []
    return sorted(
        n
        for n in os.listdir(output_dir)
        if os.path.isdir(os.path.join(output_dir, n)) and versions(os.path.join(output_dir, n))
    )


def render(names, base_path=DEFAULT_BASE_PATH):
    """The text proto of a ModelServerConfig serving `names` from base_path/<name>."""
    for name in names:
        if not name or '"' in name or "\\" in name or "/" in name:
            raise ValueError(
                f"model name={name!r} is invalid; accepted: a folder name "
                "without quotes, slashes or backslashes."
            )
    entries = "".join(
        "  config {\n"
        f'    name: "{name}"\n'
        f'    base_path: "{posixpath.join(base_path, name)}"\n'
        '    model_platform: "tensorflow"\n'
        "  }\n"
        for name in names
    )
    return "model_config_list {\n" + entries + "}\n"


def parse(text):
    """Parses `text` with tensorflow-serving-api's ModelServerConfig proto (what the server
    reads); raises ValueError when it does not parse."""
    from google.protobuf import text_format
    from tensorflow_serving.config import model_server_config_pb2

    config = model_server_config_pb2.ModelServerConfig()
    try:
        text_format.Parse(text, config)
    except text_format.ParseError as err:
        raise ValueError(f"models.config does not parse as a ModelServerConfig: {err}") from err
    return config


def write(output_dir, base_path=DEFAULT_BASE_PATH):
    """Writes <output_dir>/models.config for every exported model (atomic); returns its path.

    The text is parsed with tensorflow-serving-api's protos before it is written, when that
    package is installed.
    """
    text = render(exported_models(output_dir), base_path)
    try:
        parse(text)
    except ImportError:  # tensorflow-serving-api is optional at export time
        pass
    path = os.path.join(output_dir, FILENAME)
    fileio.write_text(path, text)
    return path
