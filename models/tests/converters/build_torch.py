"""Builds models the way PyTorch users make them: small networks trained on the 8x8 digits that
ship with scikit-learn, exported by `torch.onnx.export` exactly as it writes them (the
TorchScript exporter, `dynamo=False`, opset 17), with a dynamic batch dimension:

- torch_digits_cnn: Conv2d, BatchNorm2d, ReLU, MaxPool2d, `x.view(x.size(0), -1)` (Shape,
  Gather, Unsqueeze, Concat, Reshape), Linear.
- torch_digits_mix: Conv2d with stride 2, SiLU (`Mul(x, Sigmoid(x))`), nearest Upsample (Resize),
  ConvTranspose2d, Hardswish, AvgPool2d, `torch.flatten`, Linear.

Writes NAME.onnx, NAME.input.json, NAME.calibration.json and NAME.expected.json (onnxruntime's
outputs) here, as build_converters.py does.

Needs: pip install torch==2.15.0 onnx==1.23.2 onnxruntime==1.32.0 scikit-learn==1.9.1
Run:   python3 models/tests/converters/build_torch.py [NAME ...]   (all, or the named ones)
"""

import os
import sys

import numpy as np
import onnx
import torch
from torch import nn

from build_converters import HERE, SAMPLES, save

sys.path.insert(0, os.path.join(HERE, "..", "..", "zoo"))
from build_zoo import digits_split  # noqa: E402

OPSET = 17
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


def export(name, model, xtr, ytr, xte, yte):
    torch.manual_seed(0)
    model = train(model, xtr, ytr)
    with torch.no_grad():
        accuracy = (model(torch.tensor(xte).reshape(-1, 1, 8, 8)).argmax(1).numpy() == yte).mean()
    print(f"{name} accuracy: {accuracy:.3f}")
    path = os.path.join(HERE, name + ".onnx")
    torch.onnx.export(model, (torch.tensor(xte[:1]).reshape(1, 1, 8, 8),), path, dynamo=False,
                      opset_version=OPSET, input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})
    save(onnx.load(path), name, xte[:SAMPLES].reshape(-1, 1, 8, 8), xtr[:128].reshape(-1, 1, 8, 8), (1, 1, 8, 8))


def main(names):
    xtr, ytr, xte, yte = digits_split()
    builders = {"torch_digits_cnn": Cnn, "torch_digits_mix": Mix}
    for name in names or builders:
        export(name, builders[name](), xtr, ytr, xte, yte)


if __name__ == "__main__":
    main(sys.argv[1:])
