"""The package face as editors see it: keras_classics/__init__.pyi is what
`python -m keras_classics.stubgen` writes from the registry, declares exactly the face's
__all__, and gives jedi (IPython, most editors) and pyright (VS Code's Pylance; here
basedpyright, whose wheel carries its own Node.js) every builder's parameters."""

import ast
import inspect
import json
import pathlib
import subprocess
import sys

import jedi
import pytest

import keras_classics
from keras_classics import stubgen

ROOT = pathlib.Path(keras_classics.__file__).resolve().parents[1]


def test_stub_is_fresh():
    assert stubgen.STUB.read_text() == stubgen.generate(), (
        "keras_classics/__init__.pyi is stale; run `python -m keras_classics.stubgen`"
    )


def _stub_tree():
    return ast.parse(stubgen.STUB.read_text())


def test_stub_declares_exactly_the_face():
    declared, stub_all = set(), None
    for node in _stub_tree().body:
        if isinstance(node, ast.FunctionDef):
            declared.add(node.name)
        elif isinstance(node, ast.ImportFrom):
            # Re-exported as `name as name`: a bare import would be private in a stub.
            assert all(a.asname == a.name for a in node.names), ast.unparse(node)
            declared.update(a.asname for a in node.names)
        elif isinstance(node, ast.AnnAssign):
            declared.add(node.target.id)
        elif isinstance(node, ast.Assign) and node.targets[0].id == "__all__":
            stub_all = ast.literal_eval(node.value)
    assert stub_all == list(keras_classics.__all__)
    assert declared - {"__version__"} == set(keras_classics.__all__)
    assert "__version__" in declared and isinstance(keras_classics.__version__, str)


def test_stub_signatures_match_the_builders():
    """Each stubbed builder has its runtime signature: names, kinds and defaults."""
    functions = {n.name: n for n in _stub_tree().body if isinstance(n, ast.FunctionDef)}
    builders = [keras_classics.get_spec(m).builder for m in keras_classics.list_models()]
    assert set(functions) == {b.__name__ for b in builders}
    for builder in builders:
        stub, runtime = functions[builder.__name__].args, inspect.signature(builder).parameters
        assert [a.arg for a in stub.args + stub.kwonlyargs] == list(runtime)
        assert [a.arg for a in stub.kwonlyargs] == [
            n for n, p in runtime.items() if p.kind is p.KEYWORD_ONLY
        ]
        defaults = [ast.literal_eval(d) for d in stub.defaults + stub.kw_defaults]
        assert defaults == [p.default for p in runtime.values()]
        assert ast.unparse(functions[builder.__name__].returns) == "keras.Model"


@pytest.fixture(scope="module")
def checked(tmp_path_factory):
    """A folder outside the repository whose code imports keras_classics from ROOT (not an
    installed copy: an editable install's import hook is invisible to static analysis)."""
    folder = tmp_path_factory.mktemp("editor")
    (folder / "pyrightconfig.json").write_text(
        json.dumps({"extraPaths": [str(ROOT)], "typeCheckingMode": "standard"})
    )
    return folder


def test_jedi_sees_the_builder_parameters(checked):
    code = "import keras_classics\nkeras_classics.ResNet34("
    project = jedi.Project(checked, sys_path=[str(ROOT), *filter(None, sys.path)])
    script = jedi.Script(code, path=checked / "snippet.py", project=project)
    (signature,) = script.get_signatures()
    params = [p.name for p in signature.params]
    assert params[:8] == list(inspect.signature(keras_classics.ResNet34).parameters)[:8]
    assert {"include_top", "shortcut", "depths"} <= set(params)
    completions = {c.name for c in script.complete()}
    assert {"include_top=", "shortcut="} <= completions


def _pyright(folder, code):
    """basedpyright's diagnostics for `code`, as (severity, rule, message)."""
    (folder / "snippet.py").write_text(code)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "basedpyright",
            "--outputjson",
            "--pythonpath",
            sys.executable,
            "snippet.py",
        ],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
    )
    report = json.loads(result.stdout)
    return [(d["severity"], d.get("rule"), d["message"]) for d in report["generalDiagnostics"]]


def test_pyright_checks_builder_options(checked):
    good = "import keras_classics\n\nmodel = keras_classics.ResNet34(shortcut='A')\n"
    assert _pyright(checked, good) == []
    bad = "import keras_classics\n\nmodel = keras_classics.ResNet34(shortcut_typo='A')\n"
    assert _pyright(checked, bad) == [
        ("error", "reportCallIssue", 'No parameter named "shortcut_typo"')
    ]
