"""The ResNet paper's degradation result on the bundled Fashion-MNIST (He et al. 2016, section
4.2, Fig. 6; section 4.1, Fig. 4 with --pairs imagenet).

    python benchmarks/degradation.py                              # plain/ResNet 20 vs 56
    python benchmarks/degradation.py --epochs 16 --seeds 0,1,2    # longer, three seeds
    python benchmarks/degradation.py --pairs all                  # + plain/ResNet 18 vs 34

Every net trains through the training program's library (keras_classics/training/run.py) with
one recipe and one seed for all: the paper's own CIFAR-10 recipe of section 4.2 (SGD momentum
0.9, batch 128, LR 0.1 divided by 10 at 50% and 75% of the run, weight decay 1e-4, 4-pixel pad
and random crop with flips: `--recipe paper --augmentation pad_crop`), because the result is
the paper's and its recipe is what it was measured with, and one recipe keeps the depth the
only difference. An "epoch" is --steps_per_epoch iterations (the curves' resolution), and the
test error is measured on --validation_steps batches of the test set after each.

Writes to --out (default runs/degradation): each net's run in <net>-seed<k>/ (a model_dir:
interrupted, the same command resumes it; finished, it is read back), degradation.png (training
error thin, test error bold, against iterations; plain nets left, residual right, as Fig. 6),
degradation.md and degradation.csv (each net's final training and test top-1 error, and deep
minus shallow for each kind: the paper's result is a positive difference for the plain nets and
a negative one for the residual nets). With several seeds, the means and the seeds' spread.
"""

import argparse
import csv
import io
import json
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# The TensorFlow settings train/main.py runs with (keras_classics/_environment.py says why).
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")

from keras_classics.records import fileio

# (kind, shallow, deep): the paper's pairs.
PAIRS = {
    "cifar": (
        ("plain", "plain20_cifar", "plain56_cifar"),
        ("residual", "resnet20_cifar", "resnet56_cifar"),
    ),
    "imagenet": (("plain", "plainnet18", "plainnet34"), ("residual", "resnet18", "resnet34")),
}
KINDS = ("plain", "residual")


def pairs_of(name):
    if name == "all":
        return PAIRS["cifar"] + PAIRS["imagenet"]
    if name not in PAIRS:
        raise ValueError(f"pairs={name!r} is invalid; accepted: {(*PAIRS, 'all')}.")
    return PAIRS[name]


def run_dir(out, net, seed):
    return os.path.join(out, f"{net}-seed{seed}")


def train_one(net, seed, args):
    """Trains (or resumes, or reads back) one net; returns its history."""
    from keras_classics.training.config import RunConfig
    from keras_classics.training.run import train

    model_dir = run_dir(args.out, net, seed)
    results = os.path.join(model_dir, "results.json")
    done = False
    if os.path.exists(results):
        with open(results, encoding="utf-8") as f:
            done = json.load(f)["epochs"] == args.epochs
    if not done:
        start = time.time()
        train(
            RunConfig.from_flags(
                model=net,
                dataset="fashion_mnist",
                recipe="paper",
                augmentation="pad_crop",
                epochs=args.epochs,
                steps_per_epoch=args.steps_per_epoch,
                validation_steps=args.validation_steps,
                batch_size=args.batch_size,
                seed=seed,
                model_dir=model_dir,
            )
        )
        print(f"{net} seed {seed}: {time.time() - start:.0f} s", flush=True)
    return read_run(model_dir)


def read_run(model_dir):
    """{"train_error": [...], "test_error": [...]} per epoch, from the run's history.csv
    (top-1 errors: training as fit measured it over the epoch, test after it)."""
    from keras_classics.training.plot import read_history

    history = read_history(os.path.join(model_dir, "history.csv"))
    return {
        "train_error": [1.0 - v for v in history["top1"]],
        "test_error": [1.0 - v for v in history["val_top1"]],
    }


def summarise(histories, pairs):
    """Rows of the table from {seed: {net: history}}: each net's final errors (mean over the
    seeds, and their spread max - min), then deep minus shallow for each pair."""
    seeds = sorted(histories)
    rows = []

    def stats(values):
        return statistics.fmean(values), max(values) - min(values)

    for kind, shallow, deep in pairs:
        final = {}
        for net in (shallow, deep):
            for split in ("train_error", "test_error"):
                final[net, split] = [histories[s][net][split][-1] for s in seeds]
            rows.append(
                {
                    "net": net,
                    "kind": kind,
                    "train_error": stats(final[net, "train_error"]),
                    "test_error": stats(final[net, "test_error"]),
                    "seeds": len(seeds),
                }
            )
        rows.append(
            {
                "net": f"{deep} - {shallow}",
                "kind": kind,
                **{
                    split: stats([d - s for d, s in zip(final[deep, split], final[shallow, split])])
                    for split in ("train_error", "test_error")
                },
                "seeds": len(seeds),
            }
        )
    return rows


def _cell(value, spread, seeds):
    text = f"{100 * value:.2f}"
    return text + (f" ± {100 * spread / 2:.2f}" if seeds > 1 else "")


def table_markdown(rows):
    """The rows as a markdown table, errors in percent (± half the seeds' spread)."""
    lines = [
        "| net | kind | training error (%) | test error (%) |",
        "|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['net']} | {r['kind']} | {_cell(*r['train_error'], r['seeds'])} | "
            f"{_cell(*r['test_error'], r['seeds'])} |"
        )
    return "\n".join(lines) + "\n"


def table_csv(rows):
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(
        [
            "net",
            "kind",
            "train_error",
            "train_error_spread",
            "test_error",
            "test_error_spread",
            "seeds",
        ]
    )
    for r in rows:
        writer.writerow(
            [
                r["net"],
                r["kind"],
                *(f"{v:.6f}" for v in r["train_error"]),
                *(f"{v:.6f}" for v in r["test_error"]),
                r["seeds"],
            ]
        )
    return buffer.getvalue()


def plot(histories, pairs, steps_per_epoch, png_path, title):
    """Fig. 6's layout: one panel per kind (plain left, residual right), each net's training
    error thin and test error bold against iterations, the mean over the seeds."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    seeds = sorted(histories)
    fig, axes = plt.subplots(1, len(KINDS), figsize=(11, 4), sharey=True)
    for ax, kind in zip(axes, KINDS):
        nets = [n for k, shallow, deep in pairs if k == kind for n in (shallow, deep)]
        for color, net in zip(("tab:orange", "tab:red", "tab:cyan", "tab:blue"), nets):
            for split, width, style in (("train_error", 0.8, "--"), ("test_error", 2.2, "-")):
                curves = [histories[s][net][split] for s in seeds]
                mean = [100 * statistics.fmean(v) for v in zip(*curves)]
                steps = [steps_per_epoch * (i + 1) for i in range(len(mean))]
                label = f"{net} {'train' if split == 'train_error' else 'test'}"
                ax.plot(steps, mean, style, color=color, linewidth=width, label=label)
        ax.set_title(f"{kind} nets")
        ax.set_xlabel("iterations")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    axes[0].set_ylabel("top-1 error (%)")
    fig.suptitle(title)
    fig.tight_layout()
    with fileio.atomic_path(png_path, ".png") as tmp:
        fig.savefig(tmp, dpi=100)
    plt.close(fig)
    return fig


def write_outputs(histories, pairs, steps_per_epoch, out, title):
    """degradation.png, .md and .csv in `out` from {seed: {net: history}}; returns the rows."""
    rows = summarise(histories, pairs)
    os.makedirs(out, exist_ok=True)
    plot(histories, pairs, steps_per_epoch, os.path.join(out, "degradation.png"), title)
    fileio.write_text(os.path.join(out, "degradation.md"), table_markdown(rows))
    fileio.write_text(os.path.join(out, "degradation.csv"), table_csv(rows))
    return rows


def parse_seeds(text):
    try:
        seeds = [int(s) for s in text.split(",")]
    except ValueError:
        seeds = []
    if not seeds or any(s < 0 for s in seeds) or len(set(seeds)) != len(seeds):
        raise ValueError(
            f"seeds={text!r} is invalid; accepted: distinct integers >= 0, comma-separated."
        )
    return seeds


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", default="cifar", help="cifar (default), imagenet or all")
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--steps_per_epoch", type=int, default=50)
    parser.add_argument("--validation_steps", type=int, default=20)
    parser.add_argument("--batch_size", type=int, default=128)
    parser.add_argument("--seeds", default="0", help="comma-separated, e.g. 0,1,2")
    parser.add_argument("--out", default=os.path.join("runs", "degradation"))
    args = parser.parse_args(argv)
    pairs = pairs_of(args.pairs)
    seeds = parse_seeds(args.seeds)
    start = time.time()
    histories = {
        seed: {net: train_one(net, seed, args) for _, *nets in pairs for net in nets}
        for seed in seeds
    }
    title = (
        f"Fashion-MNIST, He et al. section 4.2 recipe, {args.epochs} x {args.steps_per_epoch} "
        f"iterations, seeds {args.seeds}"
    )
    rows = write_outputs(histories, pairs, args.steps_per_epoch, args.out, title)
    print(table_markdown(rows))
    from bench_default_run import cpu_model  # benchmarks/: the CPU every figure names

    print(
        f"wall {time.time() - start:.0f} s on {cpu_model()} (runs read back take none); "
        f"outputs in {args.out}"
    )


if __name__ == "__main__":
    main()
