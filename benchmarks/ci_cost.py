"""CI's cost per registered model, from a pytest run's JUnit XML (or `--durations=0` report).

    PYTEST_ADDOPTS="--junitxml=ci.xml" /usr/bin/time -v bash .ci/run
    python benchmarks/ci_cost.py ci.xml --wall 1500 --models 75 --workers 2

A test is charged to a model when its parameters name that registry model (e.g.
`test_made_of_exported_kinds[resnet50]`, `test_torchvision_parity[resnet18]`); the export
tests, the .keras round trip and the training tests so charged run for representatives only
(tests/export_cover.py's kind cover, one training run per family) and are counted apart;
everything else (set-up of the venv, lint, layers, data, the training program, CLIs) is the
fixed cost. The projection to N models adds, to today's wall time, (N - today's) x the mean
cost of a model (and, since a new model may be as dear as today's dearest, the 90th-percentile
cost) plus, for each new family, one export and one training representative at their mean
costs; with --workers W (pytest -n W) the durations were measured inside the workers, and the
added cost is divided among them.
"""

import argparse
import collections
import re
import statistics
import sys

LINE = re.compile(r"^\s*([\d.]+)s\s+(setup|call|teardown)\s+(\S+)")
# Tests run for representatives only, not for every model: the exports (tests/export_cover.py)
# and the whole-model .keras round trip of the same representatives (tests/test_models.py),
# and the training program's end-to-end run (one model per family, tests/training).
REPRESENTATIVES = re.compile(r"tests[./](?:(export|training)[./]|test_models\b.*round_trip)")


def read_durations(path):
    """[(seconds, phase, node id)]: JUnit XML test cases (set-up, call and teardown in one),
    or the lines of a --durations report."""
    if path.endswith(".xml"):
        import xml.etree.ElementTree as ET

        cases = ET.parse(path).getroot().iter("testcase")
        return [
            (float(c.get("time", 0)), "total", f"{c.get('classname')}::{c.get('name')}")
            for c in cases
        ]
    with open(path) as f:
        return [(float(m[1]), m[2], m[3]) for m in map(LINE.match, f) if m]


def model_of(node_id, names):
    """The registry model a test's parameters name, or None."""
    params = node_id.partition("[")[2].rstrip("]")
    if not params:
        return None
    tokens = set(re.split(r"[-\[\],]", params))
    hits = [n for n in names if n in tokens]
    return max(hits, key=len) if hits else None


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("log", help="pytest's --junitxml file, or its output with --durations=0")
    parser.add_argument(
        "--wall",
        type=float,
        help="the whole .ci/run wall time in seconds "
        "(install and lint included); default the tests' sum",
    )
    parser.add_argument("--models", type=int, default=75, help="registry size to project to")
    parser.add_argument(
        "--families", type=int, default=11, help="new families, each an export representative"
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="pytest-xdist workers of the run (-n): the durations were measured in them, so "
        "an added model's cost adds its duration to one worker's queue, about 1/workers of it "
        "to the wall time",
    )
    args = parser.parse_args(argv)

    import keras_classics

    names = keras_classics.list_models()
    rows = read_durations(args.log)
    if not rows:
        sys.exit(f"{args.log}: no durations found (run pytest with --durations=0).")
    per_model = collections.Counter()
    representative = {"export": collections.Counter(), "training": collections.Counter()}
    for seconds, _, node in rows:
        name = model_of(node, names)
        if name is None:
            continue
        # A new model adds a representative's tests only when it brings a new kind or family,
        # so they are counted apart.
        kind = REPRESENTATIVES.search(node)
        (representative[kind[1] or "export"] if kind else per_model)[name] += seconds
    tests = sum(s for s, _, _ in rows)
    wall = args.wall or tests
    charged = sum(per_model.values()) + sum(sum(c.values()) for c in representative.values())
    fixed = wall - charged / args.workers
    costs = sorted(per_model.get(n, 0.0) for n in names)
    mean = statistics.mean(costs)
    p90 = costs[int(0.9 * (len(costs) - 1))]
    means = {k: statistics.mean(c.values()) if c else 0.0 for k, c in representative.items()}
    family = sum(means.values())
    print(f"tests {tests:.0f} s, wall {wall:.0f} s, {len(names)} models, {args.workers} worker(s)")
    print(f"fixed cost: {fixed:.0f} s (install, lint, layers, data, training program, CLIs ...)")
    print(
        f"per model (builds, checks, arguments, parity): mean {mean:.1f} s, median "
        f"{statistics.median(costs):.1f} s, 90th percentile {p90:.1f} s, max {costs[-1]:.1f} s"
    )
    for kind, counter in representative.items():
        print(
            f"{kind} representatives: {len(counter)}, {sum(counter.values()):.0f} s, "
            f"{means[kind]:.1f} s each"
        )
    print(f"a new family (one export and one training representative): {family:.1f} s")
    print("| model | checks (s) | export (s) | training (s) |\n|---|---|---|---|")
    for name in sorted(names, key=lambda n: -per_model.get(n, 0.0)):
        cells = [per_model.get(name, 0.0)] + [c.get(name, 0.0) for c in representative.values()]
        print(f"| {name} | " + " | ".join(f"{v:.1f}" for v in cells) + " |")
    added = args.models - len(names)
    for label, cost in (("mean", mean), ("90th percentile", p90)):
        total = wall + (added * cost + args.families * family) / args.workers
        print(
            f"{args.models} models ({added} more in {args.families} new families) at the "
            f"{label} cost: {total:.0f} s = {total / 60:.1f} min"
        )


if __name__ == "__main__":
    main()
