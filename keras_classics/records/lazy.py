"""PEP 562 attribute lookup for the lazy package faces (keras_classics, .export, .convert):
a public name loads the module that holds it when it is first asked for."""

import importlib


def attribute(package, names, name):
    """`package`'s public `name`: the module `names[name]` itself when that is
    `package.name`, else that module's attribute `name`."""
    if name not in names:
        raise AttributeError(f"module {package!r} has no attribute {name!r}")
    module = importlib.import_module(names[name])
    return module if module.__name__ == f"{package}.{name}" else getattr(module, name)
