"""python -m keras_classics.train: the training program (train/main.py, keras-classics-train).

    python -m keras_classics.train --model resnet18            # bundled Fashion-MNIST
    python -m keras_classics.train --helpfull                  # every flag

A module, not a package: it is only the entry point, TensorFlow's environment
(keras_classics/_environment.py) and then the flags and the run of keras_classics/training/
(cli.py); a package would add an __init__ and a __main__ around the same three lines.
"""

from keras_classics import _environment


def main(argv=None):
    """Parses sys.argv (or `argv`) and trains; exits with 2 after a refused setting."""
    _environment.apply()
    from keras_classics.training import cli

    cli.main(argv)


if __name__ == "__main__":
    main()
