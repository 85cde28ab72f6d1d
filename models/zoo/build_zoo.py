#!/usr/bin/env python3
"""Builds zkinfer's model zoo and the test fixtures with the Python `onnx` package.

Everything here is deterministic (fixed seeds) and the output is committed, so the Rust tests
read files only and need no Python. Re-run after changing this script:

    python3 -m venv .venv-zoo && .venv-zoo/bin/pip install numpy onnx==1.23.2 onnxruntime==1.31.1 scikit-learn==1.9.1
    .venv-zoo/bin/python models/zoo/build_zoo.py                    # everything
    .venv-zoo/bin/python models/zoo/build_zoo.py activation_mlps    # only the Sigmoid and Tanh MLPs

Models are trained with numpy only (no torch). Data: the 8x8 handwritten digits that ship
inside scikit-learn (UCI "Optical Recognition of Handwritten Digits", Alpaydin and Kaynak,
CC BY 4.0); see models/zoo/README.md. The reference outputs are computed with onnxruntime.
"""
import json
import os
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper
from sklearn.datasets import load_digits

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "tests", "fixtures")
OPSET = 17


# ---------------------------------------------------------------- helpers

def f32list(a):
    return [float(v) for v in np.asarray(a, dtype=np.float32).ravel()]


def write_json(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f, separators=(",", ":"))
        f.write("\n")


def init(name, array, dtype=np.float32):
    return numpy_helper.from_array(np.asarray(array, dtype=dtype), name)


def make_model(name, nodes, inputs, outputs, initializers, input_shape_dims=None):
    graph = helper.make_graph(nodes, name, inputs, outputs, initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="zkinfer-zoo")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def run_ort(model, x):
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name
    return [o for o in sess.run(None, {name: x.astype(np.float32)})]


def save(model, directory, name, samples, calibration=None):
    """Writes NAME.onnx, NAME.input.json (first sample), NAME.expected.json (onnxruntime outputs
    for every sample) and, if given, NAME.calibration.json."""
    onnx.save(model, os.path.join(directory, name + ".onnx"))
    write_json(os.path.join(directory, name + ".input.json"), {"input_data": [f32list(samples[0])]})
    expected = []
    for s in samples:
        outs = run_ort(model, s)  # each sample carries the full input shape, batch included
        expected.append([f32list(o) for o in outs])
    write_json(os.path.join(directory, name + ".expected.json"),
               {"inputs": [f32list(s) for s in samples], "outputs": expected})
    if calibration is not None:
        write_json(os.path.join(directory, name + ".calibration.json"),
                   {"input_data": [f32list(c) for c in calibration]})


# ---------------------------------------------------------------- data

def digits_split():
    d = load_digits()
    x = (d.data / 16.0).astype(np.float32)  # pixel values 0..16 -> [0, 1], exact in binary
    y = d.target.astype(np.int64)
    rng = np.random.default_rng(0)
    order = rng.permutation(len(x))
    n_test = 360
    test, train = order[:n_test], order[n_test:]
    return x[train], y[train], x[test], y[test]


# ---------------------------------------------------------------- numpy training

class Adam:
    def __init__(self, params, lr):
        self.params, self.lr, self.t = params, lr, 0
        self.m = [np.zeros_like(p) for p in params]
        self.v = [np.zeros_like(p) for p in params]

    def step(self, grads):
        self.t += 1
        for p, g, m, v in zip(self.params, grads, self.m, self.v):
            m *= 0.9; m += 0.1 * g
            v *= 0.999; v += 0.001 * g * g
            mh = m / (1 - 0.9 ** self.t); vh = v / (1 - 0.999 ** self.t)
            p -= self.lr * mh / (np.sqrt(vh) + 1e-8)


def softmax_xent_grad(logits, y):
    z = logits - logits.max(axis=1, keepdims=True)
    p = np.exp(z); p /= p.sum(axis=1, keepdims=True)
    p[np.arange(len(y)), y] -= 1
    return p / len(y)


# Hidden activations: forward, and the derivative from the activation's output and input.
ACTIVATIONS = {
    "relu": (lambda h: np.maximum(h, 0), lambda a, h: (h > 0).astype(np.float32)),
    "sigmoid": (lambda h: 1 / (1 + np.exp(-h)), lambda a, h: a * (1 - a)),
    "tanh": (np.tanh, lambda a, h: 1 - a * a),
}
ONNX_ACTIVATION = {"relu": "Relu", "sigmoid": "Sigmoid", "tanh": "Tanh"}


def train_mlp(xtr, ytr, hidden, epochs, seed, activation="relu"):
    forward, derivative = ACTIVATIONS[activation]
    rng = np.random.default_rng(seed)
    w1 = rng.normal(0, np.sqrt(2 / xtr.shape[1]), (hidden, xtr.shape[1])).astype(np.float32)
    b1 = np.zeros(hidden, np.float32)
    w2 = rng.normal(0, np.sqrt(2 / hidden), (10, hidden)).astype(np.float32)
    b2 = np.zeros(10, np.float32)
    opt = Adam([w1, b1, w2, b2], 0.01)
    for _ in range(epochs):
        for idx in np.array_split(rng.permutation(len(xtr)), len(xtr) // 64):
            x, y = xtr[idx], ytr[idx]
            h = x @ w1.T + b1; a = forward(h)
            g = softmax_xent_grad(a @ w2.T + b2, y)
            gw2 = g.T @ a; gb2 = g.sum(0)
            ga = (g @ w2) * derivative(a, h)
            opt.step([ga.T @ x, ga.sum(0), gw2, gb2])
    return w1, b1, w2, b2


def im2col(x, k, pad):
    n, c, h, w = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    oh, ow = h + 2 * pad - k + 1, w + 2 * pad - k + 1
    cols = np.empty((n, c, k, k, oh, ow), x.dtype)
    for i in range(k):
        for j in range(k):
            cols[:, :, i, j] = xp[:, :, i:i + oh, j:j + ow]
    return cols.transpose(0, 4, 5, 1, 2, 3).reshape(n * oh * ow, c * k * k), oh, ow


def train_cnn(xtr, ytr, channels, epochs, seed):
    """conv 3x3 pad 1 (1->channels) -> relu -> maxpool 2x2 -> flatten -> dense 10."""
    rng = np.random.default_rng(seed)
    wc = rng.normal(0, np.sqrt(2 / 9), (channels, 1, 3, 3)).astype(np.float32)
    bc = np.zeros(channels, np.float32)
    flat = channels * 16
    wd = rng.normal(0, np.sqrt(2 / flat), (10, flat)).astype(np.float32)
    bd = np.zeros(10, np.float32)
    opt = Adam([wc, bc, wd, bd], 0.01)
    x_all = xtr.reshape(-1, 1, 8, 8)
    for _ in range(epochs):
        for idx in np.array_split(rng.permutation(len(xtr)), len(xtr) // 64):
            x, y = x_all[idx], ytr[idx]
            n = len(idx)
            cols, oh, ow = im2col(x, 3, 1)
            conv = (cols @ wc.reshape(channels, -1).T + bc).reshape(n, oh, ow, channels).transpose(0, 3, 1, 2)
            a = np.maximum(conv, 0)
            r = a.reshape(n, channels, 4, 2, 4, 2)
            pooled = r.max(axis=(3, 5))
            mask = (r == pooled[:, :, :, None, :, None])
            f = pooled.reshape(n, -1)
            g = softmax_xent_grad(f @ wd.T + bd, y)
            gwd = g.T @ f; gbd = g.sum(0)
            gp = (g @ wd).reshape(n, channels, 4, 1, 4, 1)
            ga = (mask * gp).reshape(n, channels, 8, 8) * (conv > 0)
            gflat = ga.transpose(0, 2, 3, 1).reshape(-1, channels)
            gwc = (gflat.T @ cols).reshape(wc.shape)
            opt.step([gwc, gflat.sum(0), gwd, gbd])
    return wc, bc, wd, bd


# ---------------------------------------------------------------- graph builders

def mlp_graph(name, w1, b1, w2, b2, batch=1, activation="relu"):
    d_in = w1.shape[1]
    act = ONNX_ACTIVATION[activation]
    hidden = "relu1" if activation == "relu" else activation + "1"
    nodes = [
        helper.make_node("Gemm", ["input", "fc1.weight", "fc1.bias"], ["fc1"], name="fc1", transB=1),
        helper.make_node(act, ["fc1"], [hidden], name=hidden),
        helper.make_node("Gemm", [hidden, "fc2.weight", "fc2.bias"], ["logits"], name="fc2", transB=1),
    ]
    inp = helper.make_tensor_value_info("input", TensorProto.FLOAT, [batch, d_in])
    out = helper.make_tensor_value_info("logits", TensorProto.FLOAT, [batch, w2.shape[0]])
    inits = [init("fc1.weight", w1), init("fc1.bias", b1), init("fc2.weight", w2), init("fc2.bias", b2)]
    return make_model(name, nodes, [inp], [out], inits)


def digits_cnn_graph(wc, bc, wd, bd):
    nodes = [
        helper.make_node("Conv", ["input", "conv.weight", "conv.bias"], ["conv"], name="conv",
                         kernel_shape=[3, 3], strides=[1, 1], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["conv"], ["relu"], name="relu"),
        helper.make_node("MaxPool", ["relu"], ["pool"], name="pool", kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Flatten", ["pool"], ["flat"], name="flatten", axis=1),
        helper.make_node("Gemm", ["flat", "fc.weight", "fc.bias"], ["logits"], name="fc", transB=1),
    ]
    inp = helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 1, 8, 8])
    out = helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 10])
    inits = [init("conv.weight", wc), init("conv.bias", bc), init("fc.weight", wd), init("fc.bias", bd)]
    return make_model("digits_cnn", nodes, [inp], [out], inits)


def lenet_graph(rng):
    def he(shape, fan_in):
        return rng.normal(0, np.sqrt(2 / fan_in), shape).astype(np.float32)

    def bias(n):
        return rng.normal(0, 0.05, n).astype(np.float32)

    inits = [
        init("conv1.weight", he((6, 1, 5, 5), 25)), init("conv1.bias", bias(6)),
        init("conv2.weight", he((16, 6, 5, 5), 150)), init("conv2.bias", bias(16)),
        init("fc1.weight", he((120, 256), 256)), init("fc1.bias", bias(120)),
        init("fc2.weight", he((84, 120), 120)), init("fc2.bias", bias(84)),
        init("fc3.weight", he((10, 84), 84)), init("fc3.bias", bias(10)),
    ]
    nodes = [
        helper.make_node("Conv", ["input", "conv1.weight", "conv1.bias"], ["c1"], name="conv1", kernel_shape=[5, 5],
                         strides=[1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
        helper.make_node("MaxPool", ["r1"], ["p1"], name="pool1", kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Conv", ["p1", "conv2.weight", "conv2.bias"], ["c2"], name="conv2", kernel_shape=[5, 5],
                         strides=[1, 1]),
        helper.make_node("Relu", ["c2"], ["r2"], name="relu2"),
        helper.make_node("MaxPool", ["r2"], ["p2"], name="pool2", kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Flatten", ["p2"], ["f"], name="flatten", axis=1),
        helper.make_node("Gemm", ["f", "fc1.weight", "fc1.bias"], ["h1"], name="fc1", transB=1),
        helper.make_node("Relu", ["h1"], ["a1"], name="relu3"),
        helper.make_node("Gemm", ["a1", "fc2.weight", "fc2.bias"], ["h2"], name="fc2", transB=1),
        helper.make_node("Relu", ["h2"], ["a2"], name="relu4"),
        helper.make_node("Gemm", ["a2", "fc3.weight", "fc3.bias"], ["logits"], name="fc3", transB=1),
    ]
    inp = helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 1, 28, 28])
    out = helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 10])
    return make_model("lenet_28", nodes, [inp], [out], inits)


# ---------------------------------------------------------------- fixtures (never part of the zoo)

def fixture_activations(rng):
    """MatMul + Add bias, LeakyRelu, Gemm with alpha/beta and transB=0, Sigmoid, Mul, Sub, Tanh,
    Clip, Gemm with transA=1 input transposed via Transpose, Softmax."""
    w0 = rng.normal(0, 0.4, (16, 12)).astype(np.float32)
    b0 = rng.normal(0, 0.1, (12,)).astype(np.float32)
    w1 = rng.normal(0, 0.4, (12, 8)).astype(np.float32)   # transB = 0: [K, N]
    b1 = rng.normal(0, 0.1, (1, 8)).astype(np.float32)
    w2 = rng.normal(0, 0.6, (5, 8)).astype(np.float32)
    inits = [init("w0", w0), init("b0", b0), init("w1", w1), init("b1", b1), init("w2", w2),
             init("two", np.array(2.0)), init("half", np.array([0.25] * 8)),
             init("lo", np.array(-0.5)), init("hi", np.array(0.5))]
    nodes = [
        helper.make_node("MatMul", ["input", "w0"], ["mm"], name="matmul"),
        helper.make_node("Add", ["mm", "b0"], ["mm_b"], name="bias_add"),
        helper.make_node("LeakyRelu", ["mm_b"], ["lrelu"], name="lrelu", alpha=0.1),
        helper.make_node("Gemm", ["lrelu", "w1", "b1"], ["g1"], name="gemm_ab", alpha=0.5, beta=2.0),
        helper.make_node("Sigmoid", ["g1"], ["sig"], name="sigmoid"),
        helper.make_node("Mul", ["sig", "two"], ["sig2"], name="mul"),
        helper.make_node("Sub", ["sig2", "half"], ["centered"], name="sub"),
        helper.make_node("Tanh", ["centered"], ["th"], name="tanh"),
        helper.make_node("Clip", ["th", "lo", "hi"], ["clipped"], name="clip"),
        helper.make_node("Transpose", ["clipped"], ["clipped_t"], name="transpose", perm=[1, 0]),
        helper.make_node("Gemm", ["clipped_t", "w2"], ["logits"], name="gemm_ta", transA=1, transB=1),
        helper.make_node("Softmax", ["logits"], ["probs"], name="softmax", axis=-1),
    ]
    inp = helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 16])
    out = helper.make_tensor_value_info("probs", TensorProto.FLOAT, [1, 5])
    return make_model("fixture_activations", nodes, [inp], [out], inits)


def fixture_conv(rng):
    """Conv with stride 2 and padding, BatchNormalization (folded), Relu, AveragePool with
    padding, 1x1 Conv without bias, GlobalAveragePool, Reshape, Gemm, ArgMax."""
    inits = [
        init("cw", rng.normal(0, 0.3, (4, 2, 3, 3))), init("cb", rng.normal(0, 0.1, (4,))),
        init("bn.scale", rng.uniform(0.5, 1.5, 4)), init("bn.bias", rng.normal(0, 0.1, 4)),
        init("bn.mean", rng.normal(0, 0.1, 4)), init("bn.var", rng.uniform(0.5, 1.5, 4)),
        init("pw", rng.normal(0, 0.5, (6, 4, 1, 1))),
        init("shape", np.array([1, 6]), np.int64),
        init("fw", rng.normal(0, 0.5, (3, 6))), init("fb", rng.normal(0, 0.1, (3,))),
    ]
    nodes = [
        helper.make_node("Conv", ["input", "cw", "cb"], ["c"], name="conv_s2", kernel_shape=[3, 3],
                         strides=[2, 2], pads=[1, 1, 1, 1]),
        helper.make_node("BatchNormalization", ["c", "bn.scale", "bn.bias", "bn.mean", "bn.var"], ["bn"],
                         name="bn", epsilon=1e-5),
        helper.make_node("Relu", ["bn"], ["r"], name="relu"),
        helper.make_node("AveragePool", ["r"], ["ap"], name="avgpool", kernel_shape=[3, 3], strides=[1, 1],
                         pads=[1, 1, 1, 1]),
        helper.make_node("Conv", ["ap", "pw"], ["pc"], name="pointwise", kernel_shape=[1, 1]),
        helper.make_node("GlobalAveragePool", ["pc"], ["gap"], name="gap"),
        helper.make_node("Reshape", ["gap", "shape"], ["flat"], name="reshape"),
        helper.make_node("Gemm", ["flat", "fw", "fb"], ["scores"], name="fc", transB=1),
        helper.make_node("ArgMax", ["scores"], ["class"], name="argmax", axis=1, keepdims=1),
    ]
    inp = helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 2, 10, 10])
    out = helper.make_tensor_value_info("class", TensorProto.INT64, [1, 1])
    return make_model("fixture_conv", nodes, [inp], [out], inits)


def fixture_transpose_nhwc(rng):
    """Conv, MaxPool with padding, Transpose to NHWC, Flatten, Gemm (a layout change before a dense layer)."""
    inits = [init("cw", rng.normal(0, 0.4, (3, 1, 2, 2))), init("cb", rng.normal(0, 0.1, (3,))),
             init("fw", rng.normal(0, 0.3, (4, 3 * 4 * 4))), init("fb", rng.normal(0, 0.1, (4,)))]
    nodes = [
        helper.make_node("Conv", ["input", "cw", "cb"], ["c"], name="conv", kernel_shape=[2, 2]),
        helper.make_node("MaxPool", ["c"], ["p"], name="maxpool_pad", kernel_shape=[3, 3], strides=[2, 2],
                         pads=[1, 1, 1, 1]),
        helper.make_node("Transpose", ["p"], ["t"], name="to_nhwc", perm=[0, 2, 3, 1]),
        helper.make_node("Flatten", ["t"], ["f"], name="flatten"),
        helper.make_node("Gemm", ["f", "fw", "fb"], ["out"], name="fc", transB=1),
    ]
    inp = helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 1, 8, 8])
    out = helper.make_tensor_value_info("out", TensorProto.FLOAT, [1, 4])
    return make_model("fixture_nhwc", nodes, [inp], [out], inits)


def qdq_mlp(w1, b1, w2, b2):
    """The digits MLP in QDQ form, as ONNX quantization tools write it: int8 weight initializers
    behind DequantizeLinear, and QuantizeLinear/DequantizeLinear pairs on activations."""
    def q(w):
        s = np.float32(np.abs(w).max() / 127)
        return np.clip(np.round(w / s), -127, 127).astype(np.int8), s
    q1, s1 = q(w1)
    q2, s2 = q(w2)
    inits = [
        init("w1_q", q1, np.int8), init("w1_s", s1), init("w2_q", q2, np.int8), init("w2_s", s2),
        init("zp8", np.array(0, np.int8), np.int8), init("b1", b1), init("b2", b2),
        init("in_s", np.float32(1 / 127)), init("h_s", np.float32(8 / 127)),
    ]
    nodes = [
        helper.make_node("QuantizeLinear", ["input", "in_s", "zp8"], ["x_q"], name="x_q"),
        helper.make_node("DequantizeLinear", ["x_q", "in_s", "zp8"], ["x_dq"], name="x_dq"),
        helper.make_node("DequantizeLinear", ["w1_q", "w1_s", "zp8"], ["w1"], name="w1_dq"),
        helper.make_node("Gemm", ["x_dq", "w1", "b1"], ["h"], name="fc1", transB=1),
        helper.make_node("Relu", ["h"], ["a"], name="relu"),
        helper.make_node("QuantizeLinear", ["a", "h_s", "zp8"], ["a_q"], name="a_q"),
        helper.make_node("DequantizeLinear", ["a_q", "h_s", "zp8"], ["a_dq"], name="a_dq"),
        helper.make_node("DequantizeLinear", ["w2_q", "w2_s", "zp8"], ["w2"], name="w2_dq"),
        helper.make_node("Gemm", ["a_dq", "w2", "b2"], ["logits"], name="fc2", transB=1),
    ]
    inp = helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 64])
    out = helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 10])
    return make_model("fixture_qdq_mlp", nodes, [inp], [out], inits)


def bad_models(w1, b1, w2, b2):
    """Models that import must refuse with a typed error."""
    # dynamic batch dimension
    dyn = mlp_graph("digits_mlp_dynamic", w1, b1, w2, b2, batch="N")
    onnx.save(dyn, os.path.join(FIXTURES, "bad_dynamic_batch.onnx"))
    # unsupported op (Asinh)
    nodes = [helper.make_node("Asinh", ["input"], ["out"], name="asinh_node")]
    m = make_model("bad_op", nodes, [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 4])],
                   [helper.make_tensor_value_info("out", TensorProto.FLOAT, [1, 4])], [])
    onnx.save(m, os.path.join(FIXTURES, "bad_unsupported_op.onnx"))
    # unsupported attribute: dilated convolution
    rng = np.random.default_rng(9)
    nodes = [helper.make_node("Conv", ["input", "w"], ["out"], name="dilated_conv", kernel_shape=[2, 2],
                              dilations=[2, 2])]
    m = make_model("bad_attr", nodes, [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 1, 6, 6])],
                   [helper.make_tensor_value_info("out", TensorProto.FLOAT, [1, 1, 4, 4])],
                   [init("w", rng.normal(0, 1, (1, 1, 2, 2)))])
    onnx.save(m, os.path.join(FIXTURES, "bad_dilated_conv.onnx"))
    # truncated file and a file that is not ONNX at all
    data = open(os.path.join(HERE, "digits_mlp.onnx"), "rb").read()
    open(os.path.join(FIXTURES, "bad_truncated.onnx"), "wb").write(data[: len(data) // 2])
    open(os.path.join(FIXTURES, "bad_not_onnx.onnx"), "wb").write(b"this is a text file, not an ONNX model\n")


# ---------------------------------------------------------------- main

def accuracy(model, x, y):
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    shape = [d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim]
    hits = 0
    for xi, yi in zip(x, y):
        out = sess.run(None, {"input": xi.reshape(shape)})[0]
        hits += int(np.argmax(out) == yi)
    return hits / len(y)


def build_activation_mlps(xtr, ytr, xte, yte, calib):
    """The digits MLP with Sigmoid and with Tanh hidden units (tables instead of comparisons)."""
    for activation, seed in [("sigmoid", 3), ("tanh", 4)]:
        name = "digits_mlp_" + activation
        w1, b1, w2, b2 = train_mlp(xtr, ytr, 32, 60, seed=seed, activation=activation)
        mlp = mlp_graph(name, w1, b1, w2, b2, activation=activation)
        save(mlp, HERE, name, xte[:8].reshape(8, 1, 64), calib)
        print(name, "test accuracy (float):", accuracy(mlp, xte, yte))


def main():
    only = sys.argv[1:]
    os.makedirs(FIXTURES, exist_ok=True)
    xtr, ytr, xte, yte = digits_split()
    if only == ["activation_mlps"]:
        # The two models added later, built alone so the others stay as committed.
        build_activation_mlps(xtr, ytr, xte, yte, xtr[:256])
        return
    if only:
        sys.exit("usage: build_zoo.py [activation_mlps]")
    os.makedirs(os.path.join(HERE, "data"), exist_ok=True)
    write_json(os.path.join(HERE, "data", "digits_test.json"),
               {"input_data": [f32list(v) for v in xte], "labels": [int(v) for v in yte]})
    calib = xtr[:256]

    w1, b1, w2, b2 = train_mlp(xtr, ytr, 32, 60, seed=1)
    mlp = mlp_graph("digits_mlp", w1, b1, w2, b2)
    save(mlp, HERE, "digits_mlp", xte[:8].reshape(8, 1, 64), calib)
    print("digits_mlp test accuracy (float):", accuracy(mlp, xte, yte))

    wc, bc, wd, bd = train_cnn(xtr, ytr, 8, 30, seed=2)
    cnn = digits_cnn_graph(wc, bc, wd, bd)
    save(cnn, HERE, "digits_cnn", xte[:8].reshape(8, 1, 1, 8, 8), calib.reshape(-1, 1, 8, 8))
    print("digits_cnn test accuracy (float):", accuracy(cnn, xte, yte))

    rng = np.random.default_rng(784)
    big = mlp_graph("mlp_784_128_10",
                    rng.normal(0, np.sqrt(2 / 784), (128, 784)), rng.normal(0, 0.05, 128),
                    rng.normal(0, np.sqrt(2 / 128), (10, 128)), rng.normal(0, 0.05, 10))
    big_samples = rng.uniform(0, 1, (8, 1, 784)).astype(np.float32)
    save(big, HERE, "mlp_784_128_10", big_samples, big_samples[:, 0])

    rng = np.random.default_rng(28)
    lenet = lenet_graph(rng)
    lenet_samples = rng.uniform(0, 1, (8, 1, 1, 28, 28)).astype(np.float32)
    save(lenet, HERE, "lenet_28", lenet_samples, lenet_samples[:, 0])

    rng = np.random.default_rng(17)
    act = fixture_activations(rng)
    s = rng.uniform(-1, 1, (24, 1, 16)).astype(np.float32)
    save(act, FIXTURES, "fixture_activations", s, s[:16, 0])
    conv = fixture_conv(rng)
    s = rng.uniform(-1, 1, (24, 1, 2, 10, 10)).astype(np.float32)
    save(conv, FIXTURES, "fixture_conv", s, s[:16, 0])
    nhwc = fixture_transpose_nhwc(rng)
    s = rng.uniform(0, 1, (24, 1, 1, 8, 8)).astype(np.float32)
    save(nhwc, FIXTURES, "fixture_nhwc", s, s[:16, 0])
    qdq = qdq_mlp(w1, b1, w2, b2)
    save(qdq, FIXTURES, "fixture_qdq_mlp", xte[:24].reshape(24, 1, 64), calib)
    print("fixture_qdq_mlp test accuracy (float):", accuracy(qdq, xte, yte))
    bad_models(w1, b1, w2, b2)
    build_activation_mlps(xtr, ytr, xte, yte, calib)


if __name__ == "__main__":
    main()
