"""The package's version, written once: setup.cfg reads it (`attr:`) without importing the
package, which needs it to stay a plain string literal; keras_classics.__version__ is this.
CHANGELOG.md lists the releases."""

__version__ = "0.1.0"
