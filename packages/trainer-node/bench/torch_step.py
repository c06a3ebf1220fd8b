"""PyTorch reference for bench/torch.mjs (not a test): the float training step of csq's
mnist-cnn and ResNet-20 (same layers as @csq/layers buildModel; NCHW), cross-entropy, SGD with
momentum 0.9 and weight decay 5e-4. Prints one JSON line: {"model": ..., "stepMs": median}.

    python3 torch_step.py --model resnet20 --batch 128 --steps 5 --threads 1
"""
import argparse
import json
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def conv_bn(cin, cout, k, stride):
    return nn.Sequential(
        nn.Conv2d(cin, cout, k, stride, padding=k // 2, bias=False),
        nn.BatchNorm2d(cout, momentum=0.1, eps=1e-5),
    )


class MnistCnn(nn.Module):
    """28x28x1 -> [conv3x3 (16, 32, 64), BN, ReLU, max-pool 2 (not after the last)] -> GAP -> dense."""

    def __init__(self):
        super().__init__()
        self.blocks = nn.ModuleList([conv_bn(1, 16, 3, 1), conv_bn(16, 32, 3, 1), conv_bn(32, 64, 3, 1)])
        self.fc = nn.Linear(64, 10)

    def forward(self, x):
        for i, block in enumerate(self.blocks):
            x = F.relu(block(x))
            if i < 2:
                x = F.max_pool2d(x, 2)
        return self.fc(x.mean((2, 3)))


class Basic(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.a = conv_bn(cin, cout, 3, stride)
        self.b = conv_bn(cout, cout, 3, 1)
        self.short = conv_bn(cin, cout, 1, stride) if stride != 1 or cin != cout else None

    def forward(self, x):
        y = self.b(F.relu(self.a(x)))
        return F.relu(y + (x if self.short is None else self.short(x)))


class ResNet20(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = conv_bn(3, 16, 3, 1)
        layers, cin = [], 16
        for s, c in enumerate([16, 32, 64]):
            for i in range(3):
                layers.append(Basic(cin, c, 2 if s > 0 and i == 0 else 1))
                cin = c
        self.layers = nn.Sequential(*layers)
        self.fc = nn.Linear(64, 10)

    def forward(self, x):
        x = self.layers(F.relu(self.stem(x)))
        return self.fc(x.mean((2, 3)))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", default="resnet20", choices=["resnet20", "mnist-cnn"])
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--threads", type=int, default=1)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    net = MnistCnn() if a.model == "mnist-cnn" else ResNet20()
    shape = (a.batch, 1, 28, 28) if a.model == "mnist-cnn" else (a.batch, 3, 32, 32)
    x = torch.rand(shape) * 2 - 1
    y = torch.randint(0, 10, (a.batch,))
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)

    def step():
        t0 = time.perf_counter()
        opt.zero_grad()
        F.cross_entropy(net(x), y).backward()
        opt.step()
        return (time.perf_counter() - t0) * 1000

    step()  # warm-up
    times = [step() for _ in range(a.steps)]
    print(json.dumps({"model": a.model, "stepMs": statistics.median(times), "torch": torch.__version__,
                      "threads": torch.get_num_threads()}))


if __name__ == "__main__":
    main()
