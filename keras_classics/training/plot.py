"""The training curves as a PNG: loss, cross-entropy, top-1 and top-5, train and validation.

The names are the logs' (keras_classics/training/optim.py): "loss" is the training objective,
"cross-entropy" the main head's plain cross-entropy.
"""

import csv

from keras_classics.records import fileio

PANELS = (
    ("loss", "loss (training objective)"),
    ("cross_entropy", "cross-entropy"),
    ("top1", "top-1 accuracy"),
    ("top5", "top-5 accuracy"),
)


def read_history(csv_path):
    """{column: [values]} of a Keras CSVLogger file."""
    with open(csv_path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return {k: [float(r[k]) for r in rows if r.get(k) not in (None, "")] for k in rows[0]}


def _column(history, metric, prefix):
    """'top1' may be logged as 'top1' or, for models with aux heads, 'predictions_top1'."""
    for key in (f"{prefix}{metric}", f"{prefix}predictions_{metric}"):
        if key in history:
            return history[key]
    return None


def training_curves(csv_path, png_path, title=""):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    history = read_history(csv_path)
    epochs = [int(e) + 1 for e in history["epoch"]]
    fig, axes = plt.subplots(1, len(PANELS), figsize=(4 * len(PANELS), 3.2))
    for ax, (metric, label) in zip(axes, PANELS):
        for prefix, style in (("", "-o"), ("val_", "--s")):
            values = _column(history, metric, prefix)
            if values:
                ax.plot(
                    epochs[: len(values)], values, style, label="validation" if prefix else "train"
                )
        ax.set_xlabel("epoch")
        # Epochs are whole: without this a 3-epoch run gets ticks at 1.25, 1.5, ...
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_title(label)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(title)
    fig.tight_layout()
    with fileio.atomic_path(png_path, ".png") as tmp:
        fig.savefig(tmp, dpi=100)
    plt.close(fig)
