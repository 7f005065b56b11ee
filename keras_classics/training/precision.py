"""--mixed_precision: the Keras policy this machine computes fastest in without losing what
must stay float32.

mixed_float16 on GPUs (tensor cores; Keras' compile wraps the optimizer in a
LossScaleOptimizer, since float16 gradients underflow); mixed_bfloat16 on CPUs whose
instruction set multiplies bfloat16 (AVX512_BF16 or AMX, which oneDNN uses; bfloat16 has
float32's exponent, so no loss scaling). Variables stay float32 under both. What else stays
float32: the classifier (keras_classics.models._core builds it float32 under a mixed
policy, so the softmax, the losses and the metrics see float32) and BatchNorm's moments
(Keras computes them in float32 for float16 and bfloat16 inputs).
"""

# /proc/cpuinfo flags of CPUs that multiply bfloat16 natively.
BF16_FLAGS = ("avx512_bf16", "amx_bf16")


def cpu_flags(path="/proc/cpuinfo"):
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def pick_policy(gpus, flags=None):
    """(policy name, why) for --mixed_precision on a process with `gpus` visible GPUs;
    ValueError on a CPU without bfloat16 arithmetic (emulated, it would be slower than
    float32)."""
    if gpus:
        return "mixed_float16", f"{gpus} GPU(s): float16 compute with loss scaling"
    flags = cpu_flags() if flags is None else flags
    found = [f for f in BF16_FLAGS if f in flags]
    if found:
        return "mixed_bfloat16", f"CPU with {', '.join(found).upper()}: bfloat16 compute"
    raise ValueError(
        "mixed_precision=True is invalid on this machine: no GPU, and the CPU has none of "
        f"{[f.upper() for f in BF16_FLAGS]}, so bfloat16 would be emulated (slower than "
        "float32); accepted: mixed_precision on GPUs or on CPUs with AVX512_BF16 or AMX."
    )
