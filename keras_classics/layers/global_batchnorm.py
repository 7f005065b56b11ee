"""BatchNormalization with the global batch's statistics on N replicas, traced in linear time."""

import keras
import tensorflow as tf

_SUM = tf.distribute.ReduceOp.SUM


@keras.saving.register_keras_serializable(package="keras_classics")
class GlobalBatchNormalization(keras.layers.BatchNormalization):
    """keras.layers.BatchNormalization(synchronized=True), whose graph traces in linear time.

    In training each replica normalises by the moments of the global batch, computed as
    Keras' synchronized moments are (keras/src/backend/tensorflow/nn.py, _compute_moments_sync:
    sums and sums of squares over every replica, variance E[x^2] - E[x]^2, floored at 0, in
    float32 for float16 and bfloat16 inputs): the same values, on one device too.

    What differs is the trace. Keras all-reduces through ReplicaContext.all_reduce, whose
    tf.custom_gradient walks the graph back from the reduced tensor to find the variables it
    depends on (tensorflow/python/ops/custom_gradient.py, _get_dependent_variables). Under
    MirroredStrategy that tensor depends on the other replicas' inputs, outside the walk's
    stops, so each of the three all-reduces of every layer, forward and backward, walks the
    whole graph traced so far: quadratic in depth (docs/distributed.md measures it). Here one
    all-reduce a layer takes the sums as one tensor behind tf.stop_gradient, where the walk
    stops (it follows differentiable ops only), and the gradient is given as Keras' is:
    the all-reduced sum of the replicas' upstream gradients.

    The training program puts it in place of BatchNormalization when --sync_batchnorm
    (keras_classics.training.distribute.for_replicas).
    """

    def __init__(self, **kwargs):
        kwargs["synchronized"] = True
        super().__init__(**kwargs)

    def _moments(self, inputs, mask):
        context = tf.distribute.get_replica_context()
        if mask is not None or context is None:
            return super()._moments(inputs, mask)
        dtype = inputs.dtype
        low_precision = dtype in (tf.float16, tf.bfloat16)
        x = tf.cast(inputs, tf.float32) if low_precision else inputs
        axes = self._reduction_axes
        channels = x.shape[self.axis]
        count = tf.cast(tf.reduce_prod(tf.gather(tf.shape(x), axes)), x.dtype)
        sums = all_sum(
            context,
            tf.concat([tf.reduce_sum(x, axes), tf.reduce_sum(tf.square(x), axes), count[None]], 0),
        )
        total, squares, count = sums[:channels], sums[channels:-1], sums[-1]
        mean = tf.math.divide_no_nan(total, count)
        variance = tf.maximum(tf.math.divide_no_nan(squares, count) - tf.square(mean), 0.0)
        if low_precision:
            # As keras.ops.moments: clipped to float16's range, then back to the input's dtype.
            mean = tf.cast(tf.clip_by_value(mean, tf.float16.min, tf.float16.max), dtype)
            variance = tf.cast(tf.clip_by_value(variance, tf.float16.min, tf.float16.max), dtype)
        return mean, variance


def all_sum(context, x):
    """The sum of `x` over the replicas of replica context `context`, differentiable: its
    gradient is the sum of the replicas' upstream gradients (d(sum_k x_k)/dx_r = 1 on every
    replica). Both reductions take their input behind tf.stop_gradient (class docstring)."""

    @tf.custom_gradient
    def reduce(value):
        def grad(upstream):
            return context.all_reduce(_SUM, tf.stop_gradient(upstream))

        return context.all_reduce(_SUM, tf.stop_gradient(value)), grad

    return reduce(x)
