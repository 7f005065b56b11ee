"""What the training program prints at the start (the plan, in a few lines) and at the end (the
scores, the wall time, where the files went and the command to run next).

The whole recipe goes to the model_dir (recipe.json), not to the terminal.
"""

import os
import shlex


def duration(seconds):
    """12 s, 3 min 5 s, 2 h 4 min."""
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"


def plan_text(plan, info, replicas, strategy_name, recipe_path):
    """The plan of a run (plan.RunPlan) on the data `info` (DatasetInfo) describes."""
    r = plan.resolved
    warmup = f", {r.warmup_steps} warm-up steps" if r.warmup_steps else ""
    return (
        f"{plan.model} on {plan.dataset} ({info.num_classes} classes, {info.num_examples} "
        f"training examples), {replicas} replica(s) of {strategy_name}, image "
        f"{plan.image_size}, global batch {plan.global_batch_size}\n"
        f"{plan.epochs} epoch(s) x {plan.steps_per_epoch} steps ({plan.total_steps} in all), "
        f"augmentation {plan.augmentation}\n"
        f"recipe {plan.recipe}: {r.optimizer}, learning rate {r.base_learning_rate:g} "
        f"({r.schedule}{warmup}), weight decay {r.weight_decay:g}, label smoothing "
        f"{r.label_smoothing:g}, {r.loss} loss; all of it in {recipe_path}"
    )


def export_command(model, weights, num_classes, image_size, crop_ratio, class_names=None):
    """The command that exports a run's weights for TF Serving (keras_classics.export)."""
    args = ["python", "-m", "keras_classics.export", "--model", model, "--weights", weights]
    args += ["--class_names", class_names] if class_names else ["--classes", str(num_classes)]
    args += ["--image_size", str(image_size), "--crop_ratio", f"{crop_ratio:g}"]
    return shlex.join(args)


def summary_text(results, files, command):
    """The end of a run: scores of results.json, wall time, `files` ({what: path}) and the
    `command` to run next."""
    scores = results["eval"]
    lines = [
        f"{results['model']} on {results['dataset']}: top-1 {scores['top1']:.2%}, top-5 "
        f"{scores['top5']:.2%} on the evaluation split, {results['epochs']} epoch(s) in "
        f"{duration(results['wall_seconds'])}",
        *(f"  {what + ':':<9}{path}" for what, path in files.items()),
        f"next, export it: {command}",
    ]
    return "\n".join(lines)


def run_files(model_dir):
    """{what: path} of a finished run's files (written by the chief)."""
    join = os.path.join
    return {
        "results": join(model_dir, "results.json"),
        "curves": join(model_dir, "curves.png"),
        "weights": f"{join(model_dir, 'best.weights.h5')} (best), "
        f"{join(model_dir, 'last.weights.h5')} (last)",
        "classes": join(model_dir, "class_names.txt"),
    }
