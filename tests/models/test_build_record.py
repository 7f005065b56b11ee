"""What a model was built with (`builder_options`, `weights_card`) is kept on the built object,
not in a saved .keras file; docs/pretrained.md ("What a saved model keeps") gives the record
to keep beside it, which rebuilds the same model."""

import json

import keras
import numpy as np

import keras_classics


def test_saved_model_loads_safely_and_the_record_beside_it_rebuilds_it(tmp_path):
    keras.utils.set_random_seed(0)
    model = keras_classics.ResNet20_CIFAR(depths=(1, 1, 1), shortcut="B")
    assert model.builder_options["depths"] == (1, 1, 1)
    assert model.builder_options["shortcut"] == "B"
    assert model.weights_card is None
    path = tmp_path / "resnet20.keras"
    model.save(path)
    loaded = keras.models.load_model(path, safe_mode=True)
    # Keras keeps the graph and the weights, not the Python attributes: the docs say so.
    assert not hasattr(loaded, "builder_options") and not hasattr(loaded, "weights_card")
    record = json.loads(
        json.dumps(
            {
                "model": model.name,
                "options": model.builder_options,
                "weights": model.weights_card and model.weights_card.name,
            }
        )
    )
    rebuilt = keras_classics.get_model(record["model"], weights=str(path), **record["options"])
    assert [w.name for w in rebuilt.weights] == [w.name for w in loaded.weights]
    assert rebuilt.builder_options == {**model.builder_options, "depths": [1, 1, 1]}
    x = np.random.default_rng(0).random((2, 32, 32, 3), dtype=np.float32)
    np.testing.assert_allclose(rebuilt(x), model(x), rtol=1e-5, atol=1e-6)


def test_a_weight_card_is_found_again_by_its_name():
    card = keras_classics.get_weights("resnet50")
    assert keras_classics.get_weights(card.name) is card
