"""The console scripts of setup.cfg: installed, resolving to the command-line mains, runnable.

The installed distribution is compared with setup.cfg, so a checkout whose entry points or
version changed since `pip install -e .` fails here with the reinstall command, instead of
running stale scripts.
"""

import configparser
import importlib.metadata
import pathlib
import subprocess
import sysconfig

import pytest

import keras_classics

ROOT = pathlib.Path(__file__).resolve().parents[1]
REINSTALL = "reinstall the package: pip install -e . --no-deps"


def declared_scripts():
    """setup.cfg's console_scripts as {name: "module:function"}."""
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    lines = config["options.entry_points"]["console_scripts"].strip().splitlines()
    return dict(tuple(part.strip() for part in line.split("=")) for line in lines)


def installed_scripts():
    dist = importlib.metadata.distribution("keras_classics")
    return {ep.name: ep for ep in dist.entry_points if ep.group == "console_scripts"}


SCRIPTS = declared_scripts()


def test_declared_scripts_are_the_command_lines():
    # The package's four command lines (README "Set up"); each also runs as `python -m`.
    assert set(SCRIPTS) == {
        "keras-classics",
        "keras-classics-train",
        "keras-classics-convert",
        "keras-classics-export",
    }


def test_installed_distribution_matches_setup_cfg():
    installed = {name: ep.value for name, ep in installed_scripts().items()}
    assert installed == SCRIPTS, REINSTALL
    assert importlib.metadata.version("keras_classics") == keras_classics.__version__, REINSTALL


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_script_resolves_to_a_callable(name):
    ep = installed_scripts()[name]
    assert callable(ep.load()), f"{name} = {ep.value} is not callable"
    script = pathlib.Path(sysconfig.get_path("scripts")) / name
    assert script.is_file(), f"{script} is missing; {REINSTALL}"


def test_keras_classics_list_runs():
    script = pathlib.Path(sysconfig.get_path("scripts")) / "keras-classics"
    result = subprocess.run(
        [str(script), "list", "--family", "resnet"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    rows = {line.split()[0]: line.split()[1] for line in result.stdout.splitlines()[1:]}
    assert rows["resnet50"] == "ResNet50"
    assert set(rows) == set(keras_classics.list_models("resnet"))


def test_changelog_has_the_current_version():
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert f"## [{keras_classics.__version__}]" in changelog
