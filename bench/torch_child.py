"""PyTorch's side of the benchmarks that race it round by round (bench/train.ts, bench/gemm.ts,
bench/fashion.ts): a persistent process speaking a line protocol, started by bench/torch_child.ts.

Run with Debian's python3-torch (1.13) and OpenBLAS: bench/torch_child.ts starts /usr/bin/python3
with LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp, the OpenMP build of OpenBLAS, so
that torch.set_num_threads also sets OpenBLAS's threads (the pthread build ignores it and makes
torch at 2 threads slower than at 1).

One command per stdin line, one JSON line per answer on stdout ({"error": ...} on failure):

  info                              what runs: torch, BLAS library, thread check
  round mlp <threads> <steps> [max_ms]
                                    ms/step of the MLP 784-256-128-10, batch 128, Adam (lr 1e-3);
                                    with max_ms, fewer steps once the round took that long (a busy
                                    machine slows OpenMP at 2 threads by 10x and more)
  round cnn <threads> <steps> [max_ms]
                                    ms/step of the CNN of bench/models.ts, batch 64, SGD momentum 0.9
  gemm <AB|AtB|ABt|AtBt> <n> <threads> <round_ms>
                                    GFLOP/s of one timed round (at least round_ms, at least 1 call;
                                    the caller warms up with a round of round_ms 0)
  fashion <threads> <max_batches> <seed>
                                    one epoch of the Fashion-MNIST MLP of `tread train --data
                                    fashion-mnist --model mlp`: {"seconds", "accuracy", "loss", "batches"}
  quit

A model is built (and warmed up with 3 steps) the first time a command names it, at the thread
count of that command; rounds time steps on a fixed random batch, as bench/models.ts does.
"""
import ctypes
import gzip
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn


def blas_info():
    """Which BLAS torch's process has loaded (from its memory map) and what OpenBLAS says of itself."""
    libs = set()
    with open("/proc/self/maps") as f:
        for line in f:
            p = line.split()[-1]
            if "blas" in p or "lapack" in p:
                libs.add(p)
    info = {"libraries": sorted(libs)}
    openblas = [p for p in libs if "openblas" in p]
    if openblas:
        lib = ctypes.CDLL(openblas[0])
        lib.openblas_get_config.restype = ctypes.c_char_p
        info["openblas"] = lib.openblas_get_config().decode()
        # The kernels DYNAMIC_ARCH picked for this CPU (OPENBLAS_CORETYPE overrides it).
        lib.openblas_get_corename.restype = ctypes.c_char_p
        info["core"] = lib.openblas_get_corename().decode()
        # 0 sequential, 1 pthreads, 2 OpenMP
        info["parallel"] = {0: "sequential", 1: "pthreads", 2: "openmp"}.get(lib.openblas_get_parallel(), "?")
    return info


def info():
    a = torch.randn(64, 64)
    (a @ a).sum().item()  # loads the BLAS
    threads = {}
    for t in (1, 2):
        torch.set_num_threads(t)
        threads[t] = torch.get_num_threads()
    return {
        "torch": torch.__version__,
        "python": sys.version.split()[0],
        "blas": blas_info(),
        "set_num_threads": threads,
    }


def rng(seed):
    """The xorshift stream of bench/models.ts, so the batch is the same as tread's."""
    s = (seed & 0xFFFFFFFF) or 1

    def nxt():
        nonlocal s
        s ^= (s << 13) & 0xFFFFFFFF
        s ^= s >> 17
        s ^= (s << 5) & 0xFFFFFFFF
        return s / 4294967296

    return nxt


def batch(n, features, classes, seed):
    r = rng(seed)
    x = np.array([r() for _ in range(n * features)], dtype=np.float32)
    y = np.array([int(r() * classes) for _ in range(n)], dtype=np.int64)
    return torch.from_numpy(x), torch.from_numpy(y)


class Step:
    def __init__(self, model, opt, x, y):
        self.model, self.opt, self.x, self.y = model, opt, x, y
        self.loss = nn.CrossEntropyLoss()

    def __call__(self):
        self.opt.zero_grad()
        l = self.loss(self.model(self.x), self.y)
        l.backward()
        self.opt.step()
        return l


def make_mlp():
    x, y = batch(128, 784, 10, 1)
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10))
    return Step(model, torch.optim.Adam(model.parameters(), lr=1e-3), x.reshape(128, 784), y)


def make_cnn():
    x, y = batch(64, 784, 10, 2)
    model = nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 5 * 5, 10),
    )
    return Step(model, torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9), x.reshape(64, 1, 28, 28), y)


models = {}
matrices = {}


def round_model(name, threads, steps, max_ms=float("inf")):
    torch.set_num_threads(threads)
    step = models.get(name)
    if step is None:
        step = models[name] = {"mlp": make_mlp, "cnn": make_cnn}[name]()
        for _ in range(3):
            step()
    t0 = time.perf_counter()
    done = 0
    while done < steps and (done == 0 or (time.perf_counter() - t0) * 1000 < max_ms):
        l = step()
        done += 1
    l.item()
    ms = (time.perf_counter() - t0) * 1000 / done
    return {"ms": ms, "loss": l.item(), "steps": done}


def gemm(form, n, threads, round_ms):
    torch.set_num_threads(threads)
    if n not in matrices:
        g = torch.Generator().manual_seed(n)
        matrices[n] = (torch.rand(n, n, generator=g) * 2 - 1, torch.rand(n, n, generator=g) * 2 - 1, torch.empty(n, n))
    a, b, c = matrices[n]
    # .t() is a view: torch.mm hands BLAS the transpose flag, as tread's sgemm takes one.
    a = a.t() if form in ("AtB", "AtBt") else a
    b = b.t() if form in ("ABt", "AtBt") else b
    calls = 0
    t0 = time.perf_counter()
    while True:
        torch.mm(a, b, out=c)
        calls += 1
        t = time.perf_counter()
        if (t - t0) * 1000 >= round_ms:
            break
    return {"gflops": 2 * n**3 * calls / ((t - t0) * 1e9), "calls": calls}


# ---------------------------------------------------------------- Fashion-MNIST epoch

FASHION_DIR = os.environ.get("TREAD_FASHION_MNIST", "/usr/share/datasets/fashion-mnist")
fashion = {}


def idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def find(base):
    for name in (base + ".gz", base):
        p = os.path.join(FASHION_DIR, name)
        if os.path.exists(p):
            return p
    raise FileNotFoundError(f"no {base}[.gz] in {FASHION_DIR}")


def fashion_data():
    if not fashion:
        # Scaled to [0, 1] and normalized by the training set's pixel mean and std per batch, as
        # tread train's loader does (Normalize transform).
        xtr = torch.from_numpy(idx(find("train-images-idx3-ubyte")).astype(np.float32) / 255).reshape(-1, 1, 28, 28)
        ytr = torch.from_numpy(idx(find("train-labels-idx1-ubyte")).astype(np.int64))
        xte = torch.from_numpy(idx(find("t10k-images-idx3-ubyte")).astype(np.float32) / 255).reshape(-1, 1, 28, 28)
        yte = torch.from_numpy(idx(find("t10k-labels-idx1-ubyte")).astype(np.int64))
        fashion.update(xtr=xtr, ytr=ytr, xte=xte, yte=yte, mean=xtr.mean().item(), std=xtr.std(unbiased=False).item())
    return fashion


def fashion_epoch(threads, max_batches, seed):
    """tread train's defaults for --data fashion-mnist --model mlp: Flatten, 2 x [Linear(256, no bias)
    BatchNorm1d ReLU], Dropout(0.2), Linear(10); batch 128, shuffled; Adam lr 3e-3 under OneCycleLR
    (per batch, pct_start 0.25, over the epoch's steps); cross-entropy; no augmentation."""
    torch.set_num_threads(threads)
    d = fashion_data()
    torch.manual_seed(seed)
    layers, f = [nn.Flatten()], 784
    for _ in range(2):
        layers += [nn.Linear(f, 256, bias=False), nn.BatchNorm1d(256), nn.ReLU()]
        f = 256
    model = nn.Sequential(*layers, nn.Dropout(0.2), nn.Linear(f, 10))
    n, bs = d["xtr"].shape[0], 128
    steps = (n + bs - 1) // bs
    if max_batches > 0:
        steps = min(steps, max_batches)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, epochs=1, steps_per_epoch=steps, pct_start=0.25)
    loss_fn = nn.CrossEntropyLoss()
    mean, std = d["mean"], d["std"]
    model.train()
    t0 = time.perf_counter()
    perm = torch.randperm(n)
    total = 0.0
    for s in range(steps):
        i = perm[s * bs : (s + 1) * bs]
        x = (d["xtr"][i] - mean) / std
        opt.zero_grad()
        l = loss_fn(model(x), d["ytr"][i])
        l.backward()
        opt.step()
        sched.step()
        total += l.item()
    seconds = time.perf_counter() - t0
    model.eval()
    correct = 0
    t1 = time.perf_counter()
    with torch.no_grad():
        for s in range(0, d["xte"].shape[0], 500):
            logits = model((d["xte"][s : s + 500] - mean) / std)
            correct += (logits.argmax(1) == d["yte"][s : s + 500]).sum().item()
    return {
        "seconds": seconds,
        "evalSeconds": time.perf_counter() - t1,
        "accuracy": correct / d["xte"].shape[0],
        "loss": total / steps,
        "batches": steps,
    }


def handle(words):
    if words[0] == "info":
        return info()
    if words[0] == "round" and words[1] in ("mlp", "cnn"):
        return round_model(words[1], int(words[2]), int(words[3]), *[float(w) for w in words[4:5]])
    if words[0] == "gemm":
        return gemm(words[1], int(words[2]), int(words[3]), float(words[4]))
    if words[0] == "fashion":
        return fashion_epoch(int(words[1]), int(words[2]), int(words[3]))
    raise ValueError(f"unknown command: {' '.join(words)}")


def main():
    print(json.dumps({"ready": True, "torch": torch.__version__}), flush=True)
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        if words[0] == "quit":
            break
        try:
            out = handle(words)
        except Exception as e:  # one bad command does not end the process
            out = {"error": f"{type(e).__name__}: {e}"}
        print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
