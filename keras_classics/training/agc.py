"""Adaptive gradient clipping (Brock et al. 2021, "High-Performance Large-Scale Image Recognition
Without Normalization", section 4.1), as deepmind-research nfnets/optim.py's SGD_AGC applies it.

Unit-wise: for each unit i (an output channel of a conv kernel, an output of a Dense kernel;
a bias or gain vector, and a scalar, as one unit),

    G_i <- lambda * max(||W_i||, eps) * G_i / ||G_i||   if ||G_i|| / max(||W_i||, eps) > lambda,

with eps = 1e-3 and Frobenius norms. The NFNets clip every weight but the classifier's (its
bias is clipped: experiment_nfnets.py's partition puts it with the gains and biases).

Where. Keras 3's own clipping (clipnorm, global_clipnorm) runs in
BaseOptimizer._backend_apply_gradients before the TensorFlow backend's _backend_update_step
sums the gradients over the replicas (keras/src/backend/tensorflow/optimizer.py), so under a
distribution strategy it would clip each replica's share. `update_step` is called with the
summed gradient, per variable: AGC wraps it, so it clips the gradient of the global batch, as
DeepMind's psum before the optimiser step, and N replicas clip what one device clips.
"""

import tensorflow as tf

EPS = 1e-3
# The classifier's kernel (every builder names its classifier "predictions").
EXCLUDED = ("predictions/kernel",)


def unitwise_norm(x):
    """||x_i|| per unit, broadcastable against x: over all axes but the last for a kernel
    (rank >= 2), the whole tensor for a vector or scalar (nfnets/optim.py unitwise_norm)."""
    if len(x.shape) <= 1:
        return tf.norm(x)
    return tf.sqrt(tf.reduce_sum(tf.square(x), axis=list(range(len(x.shape) - 1)), keepdims=True))


def clip(gradient, weight, clipping, eps=EPS):
    """The unit-wise clipped gradient of `weight` (the formula in the module docstring)."""
    weight = tf.cast(weight, gradient.dtype)
    max_norm = tf.maximum(unitwise_norm(weight), eps) * clipping
    grad_norm = unitwise_norm(gradient)
    # DeepMind's guard against a zero gradient norm (where nothing is clipped anyway).
    clipped = gradient * (max_norm / tf.maximum(grad_norm, 1e-6))
    return tf.where(grad_norm > max_norm, clipped, gradient)


def check_clipping(value, name="agc_clip"):
    if value is not None and (
        isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0
    ):
        raise ValueError(
            f"{name}={value!r} is invalid; accepted: a positive clipping threshold lambda "
            "(the NFNets' 0.01), or None / 0 (off)."
        )


def enable(optimizer, clipping, excluded=EXCLUDED):
    """Makes `optimizer` (a Keras optimizer) clip unit-wise at `clipping` every trainable
    variable whose path is not in `excluded`, on the gradient summed over the replicas.

    The optimizer object's own update_step is wrapped (not a subclass): a checkpoint or a
    saved model records the plain optimizer class, which loads without this module.
    """
    check_clipping(clipping)
    plain = optimizer.update_step
    skipped = {}

    def update_step(gradient, variable, learning_rate):
        if not skipped:  # traced once the optimizer holds its variables
            skipped["keys"] = {
                optimizer._var_key(v) for v in optimizer._trainable_variables if v.path in excluded
            }
        if optimizer._var_key(variable) not in skipped["keys"]:
            gradient = clip(gradient, variable, clipping)
        return plain(gradient, variable, learning_rate)

    optimizer.update_step = update_step
    optimizer.agc_clip = clipping
    return optimizer
