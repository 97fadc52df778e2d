"""PyTorch's side of bench/landscape.ts: the same 2-D loss grid of the same CNN on the same
images, with torch.no_grad() and the parameters set in place per point (as tread does).

Reads <dir>/manifest.json and the raw float32 files bench/landscape.ts wrote; prints one JSON
line: {"seconds": ..., "threads": ..., "loss": [[...]]}. Run with Debian's python3-torch.
"""
import json
import sys
import time

import numpy as np
import torch
import torch.nn as nn


def main():
    d = sys.argv[1]
    threads = int(sys.argv[2])
    torch.set_num_threads(threads)
    m = json.load(open(f"{d}/manifest.json"))
    raw = lambda name, shape: torch.from_numpy(np.fromfile(f"{d}/{name}.f32", dtype=np.float32).reshape(shape))
    w, depth = m["width"], m["depth"]
    layers, c, hw = [], 1, 28
    for b in range(depth):
        out = w * 2 ** b
        layers += [nn.Conv2d(c, out, 3, padding=1, bias=False), nn.BatchNorm2d(out), nn.ReLU(), nn.MaxPool2d(2)]
        c, hw = out, hw // 2
    layers += [nn.Flatten(), nn.Dropout(m["dropout"]), nn.Linear(c * hw * hw, 10)]
    model = nn.Sequential(*layers)
    sd = {k: raw(f"p{i}", s) for i, (k, s) in enumerate(m["params"])}
    sd.update({k: raw(f"b{i}", s) if k.split(".")[-1] != "num_batches_tracked" else torch.tensor(0) for i, (k, s) in enumerate(m["buffers"])})
    model.load_state_dict(sd, strict=True)
    model.eval()
    x = raw("x", [m["n"], 1, 28, 28])
    y = torch.from_numpy(np.fromfile(f"{d}/y.i32", dtype=np.int32).astype(np.int64))
    names = [k for k, _ in m["params"]]
    params = dict(model.named_parameters())
    center = [params[k].detach().clone() for k in names]
    d1 = [raw(f"d1_{i}", params[k].shape) for i, k in enumerate(names)]
    d2 = [raw(f"d2_{i}", params[k].shape) for i, k in enumerate(names)]
    xs = np.linspace(-1, 1, m["resolution"])
    loss_fn = nn.CrossEntropyLoss()
    out = []
    with torch.no_grad():
        model(x[: m["batch"]])  # warm-up
        t0 = time.perf_counter()
        for b in xs:
            row = []
            for a in xs:
                for k, c0, u, v in zip(names, center, d1, d2):
                    params[k].copy_(c0 + float(a) * u + float(b) * v)
                total = 0.0
                for s in range(0, m["n"], m["batch"]):
                    total += loss_fn(model(x[s : s + m["batch"]]), y[s : s + m["batch"]]).item() * min(m["batch"], m["n"] - s)
                row.append(total / m["n"])
            out.append(row)
        seconds = time.perf_counter() - t0
    print(json.dumps({"seconds": seconds, "threads": threads, "torch": torch.__version__, "loss": out}))


if __name__ == "__main__":
    main()
