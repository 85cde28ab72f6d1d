"""Builds models the way PyTorch users make them: small networks trained on the 8x8 digits that
ship with scikit-learn, exported by `torch.onnx.export` exactly as it writes them (the
TorchScript exporter, `dynamo=False`, opset 17), with a dynamic batch dimension:

- torch_digits_cnn: Conv2d, BatchNorm2d, ReLU, MaxPool2d, `x.view(x.size(0), -1)` (Shape,
  Gather, Unsqueeze, Concat, Reshape), Linear.
- torch_digits_mix: Conv2d with stride 2, SiLU (`Mul(x, Sigmoid(x))`), nearest Upsample (Resize),
  ConvTranspose2d, Hardswish, AvgPool2d, `torch.flatten`, Linear.
- torch_digits_cnn_dynamo, torch_digits_mix_dynamo: the same networks through the exporter's
  default since PyTorch 2.9, the dynamo exporter (`dynamo=True`, opset 18, onnxscript), which
  writes the weights to NAME.onnx.data beside the model and reshapes with `allowzero = 1`.

Writes NAME.onnx, NAME.input.json, NAME.calibration.json and NAME.expected.json (onnxruntime's
outputs) here, as build_converters.py does.

Needs: pip install torch==2.15.0 onnxscript==0.7.2 onnx==1.23.2 onnxruntime==1.32.0 scikit-learn==1.9.1 skl2onnx
Run:   python3 models/tests/converters/build_torch.py [NAME ...]   (all, or the named ones)
"""

import os
import sys

import numpy as np
import onnx
import torch
from torch import nn

from build_converters import HERE, SAMPLES, save, save_data

sys.path.insert(0, os.path.join(HERE, "..", "..", "zoo"))
from build_zoo import digits_split  # noqa: E402

OPSET = 17
DYNAMO_OPSET = 18
EPOCHS = 12


class Cnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 8, 3, padding=1)
        self.bn = nn.BatchNorm2d(8)
        self.pool = nn.MaxPool2d(2)
        self.fc = nn.Linear(8 * 4 * 4, 10)

    def forward(self, x):
        x = self.pool(torch.relu(self.bn(self.conv(x))))
        return self.fc(x.view(x.size(0), -1))


class Mix(nn.Module):
    def __init__(self):
        super().__init__()
        self.down = nn.Conv2d(1, 4, 3, stride=2, padding=1)
        self.up = nn.Upsample(scale_factor=2, mode="nearest")
        self.mid = nn.Conv2d(4, 4, 3, stride=2, padding=1)
        self.back = nn.ConvTranspose2d(4, 4, 2, stride=2)
        self.pool = nn.AvgPool2d(2)
        self.fc = nn.Linear(4 * 4 * 4, 10)

    def forward(self, x):
        x = nn.functional.silu(self.down(x))
        x = nn.functional.hardswish(self.back(self.mid(self.up(x))))
        return self.fc(torch.flatten(self.pool(x), 1))


def train(model, xtr, ytr):
    # One thread and deterministic kernels: the same weights on every run.
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    torch.manual_seed(0)
    for p in model.parameters():
        if p.dim() > 1:
            nn.init.kaiming_uniform_(p, a=5 ** 0.5)
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    x, y = torch.tensor(xtr).reshape(-1, 1, 8, 8), torch.tensor(ytr)
    for _ in range(EPOCHS):
        for i in range(0, len(x), 64):
            opt.zero_grad()
            nn.functional.cross_entropy(model(x[i:i + 64]), y[i:i + 64]).backward()
            opt.step()
    model.eval()
    return model


def export(name, network, xtr, ytr, xte, yte, dynamo):
    # Seeded before the network is built: its initial biases come from the same generator.
    torch.manual_seed(0)
    model = train(network(), xtr, ytr)
    with torch.no_grad():
        accuracy = (model(torch.tensor(xte).reshape(-1, 1, 8, 8)).argmax(1).numpy() == yte).mean()
    print(f"{name} accuracy: {accuracy:.3f}")
    path = os.path.join(HERE, name + ".onnx")
    example = (torch.tensor(xte[:1]).reshape(1, 1, 8, 8),)
    samples, calibration = xte[:SAMPLES].reshape(-1, 1, 8, 8), xtr[:128].reshape(-1, 1, 8, 8)
    if dynamo:
        # As the exporter writes it: NAME.onnx and its weights in NAME.onnx.data.
        torch.onnx.export(model, example, path, dynamo=True, opset_version=DYNAMO_OPSET, input_names=["input"],
                          output_names=["logits"], dynamic_shapes={"x": {0: torch.export.Dim("batch")}})
        save_data(onnx.load(path), name, samples, calibration, (1, 1, 8, 8))
    else:
        torch.onnx.export(model, example, path, dynamo=False, opset_version=OPSET, input_names=["input"],
                          output_names=["logits"], dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})
        save(onnx.load(path), name, samples, calibration, (1, 1, 8, 8))


def main(names):
    xtr, ytr, xte, yte = digits_split()
    builders = {
        "torch_digits_cnn": (Cnn, False),
        "torch_digits_mix": (Mix, False),
        "torch_digits_cnn_dynamo": (Cnn, True),
        "torch_digits_mix_dynamo": (Mix, True),
    }
    for name in names or builders:
        network, dynamo = builders[name]
        export(name, network, xtr, ytr, xte, yte, dynamo)


if __name__ == "__main__":
    main(sys.argv[1:])
