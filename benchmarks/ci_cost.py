"""CI's cost per registered model, from a pytest run's `--durations=0` report.

    PYTEST_ADDOPTS="--durations=0 --durations-min=0" bash .ci/run 2>&1 | tee ci.log
    python benchmarks/ci_cost.py ci.log --wall 1500 --models 75

A test is charged to a model when its parameters name that registry model (e.g.
`test_default_checks[resnet50]`, `test_parity[torchvision-resnet18]`); everything else (set-up
of the venv, layers, data, training, representatives' exports, CLIs) is the fixed cost. The
projection for N models is fixed + N x the mean cost of a model, and, since a new model may be
as expensive as the dearest of today's, also fixed + N x the 90th-percentile cost.
"""

import argparse
import collections
import re
import statistics
import sys

LINE = re.compile(r"^\s*([\d.]+)s\s+(setup|call|teardown)\s+(\S+)")


def read_durations(path):
    """[(seconds, phase, node id)] of the report's durations section."""
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
    parser.add_argument("log", help="pytest output with --durations=0")
    parser.add_argument(
        "--wall",
        type=float,
        help="the whole .ci/run wall time in seconds "
        "(install and lint included); default the tests' sum",
    )
    parser.add_argument("--models", type=int, default=75, help="registry size to project to")
    args = parser.parse_args(argv)

    import keras_classics

    names = keras_classics.list_models()
    rows = read_durations(args.log)
    if not rows:
        sys.exit(f"{args.log}: no durations found (run pytest with --durations=0).")
    per_model = collections.Counter()
    for seconds, _, node in rows:
        name = model_of(node, names)
        if name is not None:
            per_model[name] += seconds
    tests = sum(s for s, _, _ in rows)
    wall = args.wall or tests
    charged = sum(per_model.values())
    fixed = wall - charged
    costs = sorted(per_model.get(n, 0.0) for n in names)
    mean = statistics.mean(costs)
    p90 = costs[int(0.9 * (len(costs) - 1))]
    print(f"tests {tests:.0f} s, wall {wall:.0f} s; {len(names)} models charged {charged:.0f} s")
    print(f"fixed cost: {fixed:.0f} s")
    print(
        f"per model: mean {mean:.1f} s, median {statistics.median(costs):.1f} s, "
        f"90th percentile {p90:.1f} s, max {costs[-1]:.1f} s"
    )
    print("| model | s |\n|---|---|")
    for name in sorted(names, key=lambda n: -per_model.get(n, 0.0)):
        print(f"| {name} | {per_model.get(name, 0.0):.1f} |")
    for label, cost in (("mean", mean), ("90th percentile", p90)):
        total = fixed + args.models * cost
        print(f"{args.models} models at the {label} cost: {total:.0f} s = {total / 60:.1f} min")


if __name__ == "__main__":
    main()
