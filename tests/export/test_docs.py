"""docs/export.md's REST and gRPC clients, run against the exported signatures.

The TF Serving binary is not installable here (docs/export.md). Instead the clients'
network calls are answered by the loaded SavedModel: the REST body goes through TF Serving's
row-format rules, the gRPC PredictRequest's tensors through the signature it names. What the
test cannot cover is the server itself (HTTP routing, batching, its protobuf parsing).
"""

import base64
import io
import json
import os
import re
import urllib.request

import numpy as np
import pytest
import tensorflow as tf

import keras_classics
from export_helpers import tiny_classifier
from keras_classics import export
from keras_classics.export.signatures import OUTPUTS

DOC = os.path.join(os.path.dirname(__file__), "..", "..", "docs", "export.md")
MODEL = "resnet50"  # the name the doc's clients use


def doc_blocks(language):
    with open(DOC, encoding="utf-8") as f:
        text = f.read()
    return re.findall(rf"```{language}\n(.*?)```", text, re.S)


def doc_client(first_line):
    """The namespace of the doc's Python block starting with `first_line`, run as a module
    (not as __main__, so it calls no server)."""
    [code] = [b for b in doc_blocks("python") if b.startswith(first_line)]
    namespace = {"__name__": "doc_client"}
    exec(compile(code, f"docs/export.md:{first_line}", "exec"), namespace)
    return namespace


@pytest.fixture(scope="module")
def served(tmp_path_factory, encoded):
    root = tmp_path_factory.mktemp("served")
    path = export.export_model(
        tiny_classifier(classes=1000), "resnet18", output_dir=str(root), name=MODEL
    )
    files = []
    for i, (fmt, data) in enumerate(encoded[:3] + encoded[-1:]):
        files.append(str(root / f"photo{i}.{'png' if fmt == 'png' else 'jpg'}"))
        with open(files[-1], "wb") as f:
            f.write(data)
    return tf.saved_model.load(path).signatures, files


def rest_predict(signatures, body):
    """TF Serving's REST predict in row format, done on the loaded signatures."""
    request = json.loads(body)
    fn = signatures[request.get("signature_name", "serving_default")]
    specs = fn.structured_input_signature[1]
    columns = {name: [] for name in specs}
    for instance in request["instances"]:
        assert set(instance) == set(specs)
        for name, value in instance.items():
            columns[name].append(
                base64.b64decode(value["b64"]) if isinstance(value, dict) else value
            )
    inputs = {n: tf.constant(v, dtype=specs[n].dtype) for n, v in columns.items()}
    outputs = {k: v.numpy() for k, v in fn(**inputs).items()}
    rows = [
        {
            k: (np.char.decode(v[i].astype(bytes)) if v.dtype == object else v[i]).tolist()
            for k, v in outputs.items()
        }
        for i in range(len(request["instances"]))
    ]
    return {"predictions": rows}


def direct_top(signatures, files):
    out = signatures["serving_bytes"](image_bytes=tf.stack([tf.io.read_file(f) for f in files]))
    return [
        [(n.decode(), float(s)) for n, s in zip(ns, ss)]
        for ns, ss in zip(out["top_k_names"].numpy(), out["top_k_scores"].numpy())
    ]


def test_json_examples_match_the_signatures(served):
    request, response = [json.loads(b) for b in doc_blocks("json")]
    signatures, _ = served
    assert request["signature_name"] == "serving_bytes"
    assert set(request["instances"][0]) == set(
        signatures["serving_bytes"].structured_input_signature[1]
    )
    assert (
        set(response["predictions"][0])
        == set(OUTPUTS)
        == set(signatures["serving_bytes"].structured_outputs)
    )


def test_rest_client(served, monkeypatch):
    signatures, files = served
    client = doc_client("# rest_client.py")
    calls = []

    def urlopen(request, timeout):
        assert request.full_url == f"http://localhost:8501/v1/models/{MODEL}:predict"
        assert request.get_header("Content-type") == "application/json"
        calls.append(request)
        return io.BytesIO(json.dumps(rest_predict(signatures, request.data)).encode())

    monkeypatch.setattr(urllib.request, "urlopen", urlopen)
    top = client["predict_rest"](files)
    assert len(calls) == 1
    expected = direct_top(signatures, files)
    assert [[n for n, _ in row] for row in top] == [[n for n, _ in row] for row in expected]
    np.testing.assert_allclose(
        [[s for _, s in r] for r in top], [[s for _, s in r] for r in expected], rtol=1e-6
    )
    imagenet = {n for _, n in keras_classics.records.imagenet.class_index()}
    assert all(n in imagenet for row in top for n, _ in row)


def test_rest_pixels_body(served, photos):
    signatures, _ = served
    client = doc_client("# rest_client.py")
    images = np.stack([photos["chelsea"], photos["chelsea"][::-1]])
    response = rest_predict(signatures, client["pixels_body"](images))
    direct = signatures["serving_default"](images=tf.constant(images, tf.float32))
    np.testing.assert_allclose(
        [p["probabilities"] for p in response["predictions"]],
        direct["probabilities"].numpy(),
        rtol=1e-6,
    )


def test_grpc_client(served, monkeypatch):
    signatures, files = served
    client = doc_client("# grpc_client.py")
    from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc

    seen = []

    class Stub:
        def __init__(self, channel):
            self.channel = channel

        def Predict(self, request, timeout):  # noqa: N802 (the gRPC method name)
            assert isinstance(request, predict_pb2.PredictRequest)
            assert request.model_spec.name == MODEL
            fn = signatures[request.model_spec.signature_name]
            specs = fn.structured_input_signature[1]
            assert set(request.inputs) == set(specs)
            for name, proto in request.inputs.items():
                assert proto.dtype == specs[name].dtype.as_datatype_enum
            seen.append(request)
            outputs = fn(**{k: tf.constant(tf.make_ndarray(v)) for k, v in request.inputs.items()})
            response = predict_pb2.PredictResponse()
            response.model_spec.CopyFrom(request.model_spec)
            for k, v in outputs.items():
                response.outputs[k].CopyFrom(tf.make_tensor_proto(v.numpy()))
            return response

    monkeypatch.setattr(prediction_service_pb2_grpc, "PredictionServiceStub", Stub)
    top = client["predict_grpc"](files)
    assert len(seen) == 1 and len(seen[0].inputs["image_bytes"].string_val) == len(files)
    # The request survives the wire format unchanged.
    assert predict_pb2.PredictRequest.FromString(seen[0].SerializeToString()) == seen[0]
    assert top == direct_top(signatures, files)
