/**
 * The Python program `exportToPyTorch` writes (train_torch.py): it needs only PyTorch. It
 * reads state.safetensors with a small reader of its own, rebuilds the model, the optimizer
 * (state by parameter name) and the schedule, and continues training on data.safetensors,
 * in one process or under torchrun with DistributedDataParallel (gloo on CPUs, nccl on GPUs).
 * `--check-step batch.safetensors --check-out out.safetensors` takes exactly one step on a
 * given batch and writes the loss and the new weights (the export's tests compare it with
 * tread's own next step).
 */
export interface TemplateParts {
  version: string;
  model: string;
  loss: string;
  optimizerType: string;
  scheduler: string | null;
  exportData: string;
}

export function trainTorchPy(p: TemplateParts): string {
  return `#!/usr/bin/env python3
"""Continues a tread training run in PyTorch (written by tread ${p.version}, exportToPyTorch).

Needs only PyTorch (>= 1.13). Files beside this one: state.safetensors (weights, optimizer and
schedule state, by PyTorch state-dict names) and, if the data was exported, data.safetensors
(x, y).

    python3 train_torch.py --epochs 3                        # one process (a GPU if there is one)
    torchrun --nproc_per_node=2 train_torch.py --epochs 3    # DistributedDataParallel

(With PyTorch 1.13 on Python 3.11, add '--redirects 1 --tee 1' after --nproc_per_node: that
torchrun cannot parse its default '--redirects 0' there.)
"""
import argparse
import json
import os
import struct
import sys

import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
EXPORT = ${p.exportData}
DTYPES = {"F32": torch.float32, "F64": torch.float64, "F16": torch.float16, "BF16": torch.bfloat16,
          "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8, "U8": torch.uint8, "BOOL": torch.bool}


def read_safetensors(path):
    """name -> tensor, and the metadata, of a safetensors file (no other package needed)."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    meta = header.pop("__metadata__", {})
    base = 8 + n
    out = {}
    for name, e in header.items():
        a, b = e["data_offsets"]
        dtype = DTYPES[e["dtype"]]
        t = torch.frombuffer(bytearray(data[base + a:base + b]), dtype=dtype) if b > a else torch.empty(0, dtype=dtype)
        out[name] = t.reshape(e["shape"]).clone()
    return out, meta


def write_safetensors(path, tensors):
    names = sorted(tensors)
    header, offset, blobs = {}, 0, []
    rev = {v: k for k, v in DTYPES.items()}
    for k in names:
        t = tensors[k].detach().cpu().contiguous()
        b = t.numpy().tobytes()
        header[k] = {"dtype": rev[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(b)]}
        offset += len(b)
        blobs.append(b)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path + ".tmp", "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))
    os.replace(path + ".tmp", path)


def build_model():
    return ${p.model}


def build_loss():
    return ${p.loss}


def build_optimizer(model):
    named = dict(model.named_parameters())
    groups = [dict(params=[named[n] for n in g["params"]], **g["options"]) for g in EXPORT["optimizer"]["groups"]]
    return torch.optim.${p.optimizerType}(groups)


def build_scheduler(optimizer):
    ${p.scheduler ? `return ${p.scheduler}` : 'return None'}


def restore(model, optimizer, scheduler, tensors):
    model.load_state_dict({k: v for k, v in tensors.items() if not k.startswith("optimizer.")}, strict=True)
    sd = optimizer.state_dict()
    names = [n for g in EXPORT["optimizer"]["groups"] for n in g["params"]]
    state = {}
    for i, n in enumerate(names):
        s = {k: torch.tensor(float(v)) for k, v in EXPORT["optimizer"]["state"].get(n, {}).items()}
        prefix = "optimizer.state." + n + "."
        s.update({k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)})
        if s:
            state[i] = s
    sd["state"] = state
    for g, eg in zip(sd["param_groups"], EXPORT["optimizer"]["groups"]):
        g.update(eg["current"])
    optimizer.load_state_dict(sd)
    if scheduler is not None:
        for k, v in EXPORT["scheduler"]["restore"].items():
            setattr(scheduler, k, v)
        for g, eg in zip(optimizer.param_groups, EXPORT["optimizer"]["groups"]):
            g.update(eg["current"])  # the constructor reset lr/momentum to the schedule's start


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--epochs", type=int, default=1, help="epochs to train (default 1)")
    ap.add_argument("--batch-size", type=int, default=EXPORT["batch_size"])
    ap.add_argument("--max-steps", type=int, default=0, help="stop after this many steps (0: no limit)")
    ap.add_argument("--state", default=os.path.join(HERE, "state.safetensors"))
    ap.add_argument("--data", default=os.path.join(HERE, "data.safetensors"))
    ap.add_argument("--save", default=os.path.join(HERE, "continued.pt"), help="state_dict written at the end (rank 0)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--log-every", type=int, default=10)
    ap.add_argument("--check-step", help="take one step on the batch in this safetensors file (x, y) and stop")
    ap.add_argument("--check-out", help="where --check-step writes the loss and the new weights")
    args = ap.parse_args()

    world = int(os.environ.get("WORLD_SIZE", "1"))
    distributed = world > 1
    if distributed:
        import torch.distributed as dist
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
        rank = dist.get_rank()
    else:
        rank = 0
    local = int(os.environ.get("LOCAL_RANK", "0"))
    device = torch.device(f"cuda:{local}") if torch.cuda.is_available() else torch.device("cpu")
    torch.manual_seed(args.seed)

    model = build_model().to(device)
    optimizer = build_optimizer(model)
    scheduler = build_scheduler(optimizer)
    tensors, _ = read_safetensors(args.state)
    restore(model, optimizer, scheduler, tensors)
    loss_fn = build_loss().to(device)
    model.train()

    if args.check_step:
        batch, _ = read_safetensors(args.check_step)
        optimizer.zero_grad()
        loss = loss_fn(model(batch["x"].to(device)), batch["y"].to(device))
        loss.backward()
        optimizer.step()
        if scheduler is not None and EXPORT["scheduler"]["interval"] == "batch":
            scheduler.step()
        out = {k: v for k, v in model.state_dict().items()}
        out["loss"] = loss.detach().reshape(1)
        out["lr"] = torch.tensor([g["lr"] for g in optimizer.param_groups], dtype=torch.float64)
        write_safetensors(args.check_out, out)
        return 0

    if not os.path.exists(args.data):
        sys.exit(f"no data: {args.data} does not exist. Export the data with the weights, or load your own data in main().")
    data, _ = read_safetensors(args.data)
    dataset = torch.utils.data.TensorDataset(data["x"], data["y"])
    if distributed:
        sampler = torch.utils.data.distributed.DistributedSampler(dataset, seed=args.seed)
    else:
        sampler = torch.utils.data.RandomSampler(dataset, generator=torch.Generator().manual_seed(args.seed))
    loader = torch.utils.data.DataLoader(dataset, batch_size=args.batch_size, sampler=sampler)
    net = nn.parallel.DistributedDataParallel(model) if distributed else model
    step = 0
    for epoch in range(args.epochs):
        if distributed:
            sampler.set_epoch(epoch)
        total, count = 0.0, 0
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            optimizer.zero_grad()
            loss = loss_fn(net(x), y)
            loss.backward()
            optimizer.step()
            if scheduler is not None and EXPORT["scheduler"]["interval"] == "batch":
                scheduler.step()
            step += 1
            total += loss.item() * len(x)
            count += len(x)
            if rank == 0 and args.log_every and step % args.log_every == 0:
                print(json.dumps({"step": step, "loss": loss.item(), "lr": optimizer.param_groups[0]["lr"]}), flush=True)
            if args.max_steps and step >= args.max_steps:
                break
        if scheduler is not None and EXPORT["scheduler"]["interval"] == "epoch":
            if EXPORT["scheduler"]["type"] == "ReduceLROnPlateau":
                scheduler.step(total / max(count, 1))
            else:
                scheduler.step()
        if rank == 0:
            print(json.dumps({"epoch": epoch + 1, "train_loss": total / max(count, 1), "world_size": world}), flush=True)
        if args.max_steps and step >= args.max_steps:
            break
    if rank == 0:
        torch.save(model.state_dict(), args.save)
    if distributed:
        torch.distributed.destroy_process_group()
    return 0


if __name__ == "__main__":
    sys.exit(main())
`;
}
