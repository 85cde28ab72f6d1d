"""Builds models the way users make them: scikit-learn estimators trained on data that ships with
scikit-learn, converted to ONNX by skl2onnx, exactly as that converter writes them (dynamic batch
dimension, Cast, ArgMax -> ArrayFeatureExtractor, two outputs); and the zoo's digits MLP and CNN
quantized by onnxruntime's static quantizer in its QDQ format (int8, per tensor for the MLP, per
channel for the CNN's weights) and the CNN in its QOperator format (QLinearConv, QGemm); and both
through onnxruntime's dynamic quantizer (DynamicQuantizeLinear, MatMulInteger, ConvInteger; int8
weights per tensor for the MLP, uint8 per channel for the CNN). Writes NAME.onnx, NAME.input.json,
NAME.calibration.json and NAME.expected.json (onnxruntime's outputs) here. PyTorch's exports are
built by build_torch.py beside this script.

Needs: pip install onnx onnxruntime scikit-learn skl2onnx (the outputs here: onnx 1.23.2,
onnxruntime 1.32.0, scikit-learn 1.9.1)
Run:   python3 models/tests/converters/build_converters.py [NAME ...]   (all, or the named ones)
"""

import os
import sys
import warnings

import numpy as np
import onnx
import onnxruntime as ort
from skl2onnx import to_onnx
from sklearn.datasets import load_diabetes
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier, MLPRegressor

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "zoo"))
from build_zoo import digits_split, f32list, write_json  # noqa: E402

OPSET = 17
SAMPLES = 16


def run_ort(model, x):
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return sess.run(None, {sess.get_inputs()[0].name: x.astype(np.float32)})


def save(model, name, samples, calibration, shape=None):
    with open(os.path.join(HERE, name + ".onnx"), "wb") as f:
        f.write(model.SerializeToString())
    save_data(model, name, samples, calibration, shape)


def save_data(model, name, samples, calibration, shape=None):
    """NAME.input.json, NAME.calibration.json and NAME.expected.json (onnxruntime's outputs)."""
    write_json(os.path.join(HERE, name + ".input.json"), {"input_data": [f32list(samples[0])]})
    write_json(os.path.join(HERE, name + ".calibration.json"), {"input_data": [f32list(c) for c in calibration]})
    outputs = []
    for s in samples:
        outs = run_ort(model, s.reshape(shape or (1, -1)))
        outputs.append([[float(v) for v in np.asarray(o).ravel()] for o in outs])
    write_json(os.path.join(HERE, name + ".expected.json"),
               {"inputs": [f32list(s) for s in samples], "outputs": outputs})


def ort_quantized(zoo_name, name, xtr, xte, per_channel, qoperator=False):
    """The zoo model `zoo_name` through onnxruntime's static quantizer: QDQ with int8
    activations, or QOperator (QLinearConv, QGemm) with uint8 activations."""
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

    source = os.path.join(HERE, "..", "..", "zoo", zoo_name + ".onnx")
    shape = [d.dim_value for d in onnx.load(source).graph.input[0].type.tensor_type.shape.dim]

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.samples = iter([{"input": x.reshape(shape).astype(np.float32)} for x in xtr[:128]])

        def get_next(self):
            return next(self.samples, None)

    out = os.path.join(HERE, name + ".onnx")
    quantize_static(source, out, Reader(), quant_format=QuantFormat.QOperator if qoperator else QuantFormat.QDQ,
                    per_channel=per_channel, activation_type=QuantType.QUInt8 if qoperator else QuantType.QInt8,
                    weight_type=QuantType.QInt8)
    model = onnx.load(out)
    save(model, name, xte[:SAMPLES].reshape(-1, *shape[1:]), xtr[:128].reshape(-1, *shape[1:]), shape)


def ort_dynamic(zoo_name, name, xtr, xte, per_channel, weight_type):
    """The zoo model `zoo_name` through onnxruntime's dynamic quantizer: activations quantized at
    run time (DynamicQuantizeLinear), weights stored as integers (MatMulInteger, ConvInteger)."""
    from onnxruntime.quantization import quantize_dynamic

    source = os.path.join(HERE, "..", "..", "zoo", zoo_name + ".onnx")
    shape = [d.dim_value for d in onnx.load(source).graph.input[0].type.tensor_type.shape.dim]
    out = os.path.join(HERE, name + ".onnx")
    quantize_dynamic(source, out, per_channel=per_channel, weight_type=weight_type)
    model = onnx.load(out)
    save(model, name, xte[:SAMPLES].reshape(-1, *shape[1:]), xtr[:128].reshape(-1, *shape[1:]), shape)


def main(names):
    from onnxruntime.quantization import QuantType

    warnings.simplefilter("ignore", ConvergenceWarning)
    xtr, ytr, xte, yte = digits_split()
    builders = {
        "skl_mlp_classifier": lambda: skl_classifier(xtr, ytr, xte, yte),
        "skl_mlp_regressor": skl_regressor,
        "ort_qdq_digits_mlp": lambda: ort_quantized("digits_mlp", "ort_qdq_digits_mlp", xtr, xte, per_channel=False),
        "ort_qdq_digits_cnn": lambda: ort_quantized("digits_cnn", "ort_qdq_digits_cnn", xtr, xte, per_channel=True),
        "ort_qop_digits_cnn": lambda: ort_quantized("digits_cnn", "ort_qop_digits_cnn", xtr, xte, per_channel=True,
                                                    qoperator=True),
        "ort_dyn_digits_mlp": lambda: ort_dynamic("digits_mlp", "ort_dyn_digits_mlp", xtr, xte, per_channel=False,
                                                  weight_type=QuantType.QInt8),
        "ort_dyn_digits_cnn": lambda: ort_dynamic("digits_cnn", "ort_dyn_digits_cnn", xtr, xte, per_channel=True,
                                                  weight_type=QuantType.QUInt8),
    }
    for name in names or builders:
        builders[name]()


def skl_classifier(xtr, ytr, xte, yte):
    clf = MLPClassifier(hidden_layer_sizes=(16,), max_iter=60, random_state=0).fit(xtr, ytr)
    model = to_onnx(clf, xtr[:1], options={id(clf): {"zipmap": False}}, target_opset=OPSET)
    save(model, "skl_mlp_classifier", xte[:SAMPLES], xtr[:128])
    print("skl_mlp_classifier accuracy:", clf.score(xte, yte))


def skl_regressor():
    data = load_diabetes()
    x = data.data.astype(np.float32)
    y = (data.target / 100.0).astype(np.float32)
    reg = MLPRegressor(hidden_layer_sizes=(8,), max_iter=300, random_state=0).fit(x[:400], y[:400])
    model = to_onnx(reg, x[:1], target_opset=OPSET)
    save(model, "skl_mlp_regressor", x[400:400 + SAMPLES], x[:128])
    print("skl_mlp_regressor R^2:", reg.score(x[400:], y[400:]))


if __name__ == "__main__":
    main(sys.argv[1:])
