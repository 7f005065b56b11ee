"""The training program's command line: one absl flag per RunConfig setting, then `train`.

keras_classics/train.py (python -m keras_classics.train, train/main.py, keras-classics-train)
runs `main`. The flags are made from the fields of RunConfig and its groups
(config.flag_fields), their types, defaults and metadata (help, accepted values), so that a
new setting is one field in keras_classics/training/config.py.
"""

import dataclasses
import sys
import typing

from absl import app, flags, logging

from keras_classics.training import distribute
from keras_classics.training.config import RunConfig, flag_fields
from keras_classics.training.run import train

_DEFINE = {
    str: flags.DEFINE_string,
    int: flags.DEFINE_integer,
    float: flags.DEFINE_float,
    bool: flags.DEFINE_bool,
}
# Not a RunConfig setting: it configures the process's devices before the run starts.
PROCESS_FLAGS = ("cpu_devices",)


def _value_type(annotation):
    """int of Optional[int], int of int."""
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    return args[0] if args else annotation


def define_flags(flag_values=flags.FLAGS):
    """Defines one flag per RunConfig setting (config.flag_fields) in `flag_values`, and the
    process flags."""
    for _, field in flag_fields():
        default = None if field.default is dataclasses.MISSING else field.default
        help_ = field.metadata["help"]
        choices = field.metadata.get("choices")
        if choices is not None:
            choices = list(choices() if callable(choices) else choices)
            flags.DEFINE_enum(field.name, default, choices, help_, flag_values=flag_values)
        else:
            _DEFINE[_value_type(field.type)](field.name, default, help_, flag_values=flag_values)
        if field.default is dataclasses.MISSING:
            flags.mark_flag_as_required(field.name, flag_values=flag_values)
    flags.DEFINE_integer(
        "cpu_devices",
        None,
        "Split the CPU into N logical devices (to try MirroredStrategy without GPUs).",
        flag_values=flag_values,
    )


def config_from(flag_values):
    """The RunConfig of parsed flags; a refused value is a ValueError naming it."""
    return RunConfig.from_flags(**{f.name: flag_values[f.name].value for _, f in flag_fields()})


def _main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
    if not flags.FLAGS["verbosity"].present:
        # absl.app turns Python logging on at INFO, which prints TensorFlow's internal
        # checkpoint timings on every backup; --verbosity 0 brings them back.
        logging.set_verbosity(logging.WARNING)
    if flags.FLAGS.cpu_devices:
        distribute.use_cpu_devices(flags.FLAGS.cpu_devices)
    try:
        train(config_from(flags.FLAGS))  # the groups check their values as they are made
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


def main(argv=None):
    """Parses sys.argv (or `argv`) and runs; exits with 2 after a refused setting."""
    define_flags()
    app.run(_main, argv)
