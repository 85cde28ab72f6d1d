"""Builds models the way TensorFlow users make them: Keras networks trained on the 8x8 digits that
ship with scikit-learn, converted by tf2onnx exactly as it writes them (opset 17, a dynamic
batch dimension, NHWC inputs: with one channel tf2onnx makes them NCHW by a Reshape; MatMul and
Add for Dense layers):

- tf_digits_cnn: Conv2D (padding "same", ReLU), MaxPooling2D, Conv2D (padding "valid"),
  GlobalAveragePooling2D, Dense with softmax.
- tf_digits_mlp: Flatten of an 8x8 image, Dense with tanh, Dense with sigmoid, Dense.

Writes NAME.onnx, NAME.input.json, NAME.calibration.json and NAME.expected.json (onnxruntime's
outputs) here, as build_converters.py does.

Needs: pip install tensorflow-cpu==2.21.0 tf2onnx==1.17.0 onnxruntime==1.32.0 scikit-learn==1.9.1
Run:   python3 models/tests/converters/build_tf.py [NAME ...]   (all, or the named ones)
"""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import tf2onnx  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "zoo"))
from build_zoo import digits_split, f32list, write_json  # noqa: E402

import onnxruntime as ort  # noqa: E402

OPSET = 17
SAMPLES = 16
EPOCHS = 40


def cnn():
    return tf.keras.Sequential([
        tf.keras.Input((8, 8, 1), name="input"),
        tf.keras.layers.Conv2D(8, 3, padding="same", activation="relu"),
        tf.keras.layers.MaxPooling2D(2),
        tf.keras.layers.Conv2D(8, 3, padding="valid", activation="relu"),
        tf.keras.layers.GlobalAveragePooling2D(),
        tf.keras.layers.Dense(10, activation="softmax"),
    ])


def mlp():
    return tf.keras.Sequential([
        tf.keras.Input((8, 8, 1), name="input"),
        tf.keras.layers.Flatten(),
        tf.keras.layers.Dense(24, activation="tanh"),
        tf.keras.layers.Dense(16, activation="sigmoid"),
        tf.keras.layers.Dense(10),
    ])


def run_ort(model, x):
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return sess.run(None, {sess.get_inputs()[0].name: x.astype(np.float32)})


def export(name, build, xtr, ytr, xte, yte):
    tf.keras.utils.set_random_seed(0)
    model = build()
    model.compile(optimizer=tf.keras.optimizers.Adam(0.01),
                  loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=name == "tf_digits_mlp"),
                  metrics=["accuracy"])
    images = lambda x: x.reshape(-1, 8, 8, 1)  # noqa: E731
    model.fit(images(xtr), ytr, epochs=EPOCHS, batch_size=64, verbose=0)
    print(f"{name} accuracy: {model.evaluate(images(xte), yte, verbose=0)[1]:.3f}")
    spec = (tf.TensorSpec((None, 8, 8, 1), tf.float32, name="input"),)
    # The model's forward pass as a tf.function (tf2onnx's `from_keras` does not read Keras 3
    # models), as users of Keras 3 convert.
    forward = tf.function(lambda x: model(x, training=False), input_signature=spec)
    onnx_model, _ = tf2onnx.convert.from_function(forward, input_signature=spec, opset=OPSET)
    with open(os.path.join(HERE, name + ".onnx"), "wb") as f:
        f.write(onnx_model.SerializeToString())
    samples, calibration = images(xte[:SAMPLES]), images(xtr[:128])
    write_json(os.path.join(HERE, name + ".input.json"), {"input_data": [f32list(samples[0])]})
    write_json(os.path.join(HERE, name + ".calibration.json"), {"input_data": [f32list(c) for c in calibration]})
    outputs = [[[float(v) for v in np.asarray(o).ravel()] for o in run_ort(onnx_model, s[None])] for s in samples]
    write_json(os.path.join(HERE, name + ".expected.json"),
               {"inputs": [f32list(s) for s in samples], "outputs": outputs})


def main(names):
    xtr, ytr, xte, yte = digits_split()
    builders = {"tf_digits_cnn": cnn, "tf_digits_mlp": mlp}
    for name in names or builders:
        export(name, builders[name], xtr, ytr, xte, yte)


if __name__ == "__main__":
    main(sys.argv[1:])
