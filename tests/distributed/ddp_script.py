"""Run under ``mpiexec -n 2`` by test_mpi.py; writes one JSON report per rank to the folder in argv[1].

Every expected value is computed here without chainrule.distributed: the
full-batch gradient by a plain model on all the data, rank 0's state as
each rank sees it before broadcasting.
"""
from __future__ import annotations

import json
import sys

import numpy as np

import chainrule as cr
from chainrule import distributed as dist
from chainrule.distributed import comm

nn = cr.nn
LOWERCASE = {"allreduce", "bcast", "allgather", "gather", "scatter", "reduce", "send", "recv", "sendrecv",
             "isend", "irecv", "alltoall", "exscan", "scan"}


class NoPickling:
    """MPI.COMM_WORLD, except that the pickling (lowercase) methods raise."""

    def __init__(self, world):
        self.world = world

    def __getattr__(self, name):
        if name in LOWERCASE:
            raise AssertionError(f"pickling collective {name} used")
        return getattr(self.world, name)


def mlp(seed: int):
    cr.manual_seed(seed)
    return nn.Sequential(nn.Linear(6, 32), nn.ReLU(), nn.Linear(32, 32), nn.Tanh(), nn.Linear(32, 3))


def main(out: str) -> None:
    dist.init()
    comm._comm = NoPickling(comm._comm)
    r, n = dist.rank(), dist.world_size()
    report: dict = {"rank": r, "world": n, "is_main": dist.is_main()}
    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 6)).astype(np.float32)
    y = rng.integers(0, 3, 8)
    shard = slice(r * 8 // n, (r + 1) * 8 // n)
    loss_fn = nn.CrossEntropyLoss()

    for overlap in (False, True):
        model = mlp(seed=r + 10)  # different on each rank: DDP must broadcast rank 0's
        ddp = dist.DistributedDataParallel(model, bucket_cap_mb=0.002, first_bucket_mb=0.0005, overlap=overlap)
        reference = mlp(seed=10)  # rank 0's initial weights, trained on the whole batch in one process
        loss_fn(ddp(cr.tensor(x[shard])), cr.tensor(y[shard])).backward()
        loss_fn(reference(cr.tensor(x)), cr.tensor(y)).backward()
        ref = dict(reference.named_parameters())
        report[f"buckets_{overlap}"] = [b.names for b in ddp.buckets]
        report[f"grad_err_{overlap}"] = max(float(np.abs(p.grad.numpy() - ref[k].grad.numpy()).max())
                                            for k, p in model.named_parameters())
        report[f"weight_err_{overlap}"] = max(float(np.abs(p.numpy() - ref[k].numpy()).max())
                                              for k, p in model.named_parameters())
        # gradient accumulation: two halves under no_sync, then a synchronised step, is the sum of both
        model.zero_grad()
        half = (shard.stop - shard.start) // 2
        with ddp.no_sync():
            loss_fn(ddp(cr.tensor(x[shard][:half])), cr.tensor(y[shard][:half])).backward()
        loss_fn(ddp(cr.tensor(x[shard][half:])), cr.tensor(y[shard][half:])).backward()
        reference.zero_grad()
        for part in range(2 * n):
            idx = slice(part * half, (part + 1) * half)
            loss_fn(reference(cr.tensor(x[idx])), cr.tensor(y[idx])).backward()
        report[f"no_sync_err_{overlap}"] = max(float(np.abs(p.grad.numpy() * n - ref[k].grad.numpy()).max())
                                               for k, p in model.named_parameters())

    # SyncBatchNorm: shards normalised by the whole batch's statistics give the full batch's gradients
    def bn_net(sync: bool):
        cr.manual_seed(5)
        net = nn.Sequential(nn.Linear(6, 5), nn.BatchNorm1d(5), nn.ReLU(), nn.Linear(5, 3))
        with cr.no_grad():
            net[1].weight.copy_(cr.tensor([0.5, 1.0, 1.5, 2.0, 2.5]))
        return dist.SyncBatchNorm.convert_sync_batchnorm(net) if sync else net

    synced, plain = bn_net(True), bn_net(False)
    ddp = dist.DistributedDataParallel(synced)
    report["converted"] = type(synced[1]).__name__
    for _ in range(2):
        synced.zero_grad()
        plain.zero_grad()
        loss_fn(ddp(cr.tensor(x[shard])), cr.tensor(y[shard])).backward()
        loss_fn(plain(cr.tensor(x)), cr.tensor(y)).backward()
    ref = dict(plain.named_parameters())
    report["syncbn_grad_err"] = max(float(np.abs(p.grad.numpy() - ref[k].grad.numpy()).max())
                                    for k, p in synced.named_parameters())
    report["syncbn_stats_err"] = max(float(np.abs(synced[1].state_dict()[k].numpy()
                                                  - plain[1].state_dict()[k].numpy()).max())
                                     for k in ("running_mean", "running_var", "num_batches_tracked"))

    # buffers too: BatchNorm running statistics come from rank 0
    bn = nn.Sequential(nn.Linear(6, 4), nn.BatchNorm1d(4))
    bn[1].running_mean.data[...] = r + 1.0
    bn[1].num_batches_tracked.data[...] = 7 * (r + 1)
    dist.broadcast_parameters(bn)
    report["running_mean"] = bn[1].running_mean.numpy().tolist()
    report["num_batches_tracked"] = int(bn[1].num_batches_tracked.numpy())

    # optimizer state: rank 0 has taken steps, the others start fresh
    model = mlp(seed=3)
    opt = cr.optim.Adam(model.parameters(), lr=0.01, betas=(0.8, 0.9))
    if r == 0:
        for _ in range(2):
            opt.zero_grad()
            loss_fn(model(cr.tensor(x)), cr.tensor(y)).backward()
            opt.step()
        opt.param_groups[0]["lr"] = 0.005
    dist.broadcast_state(opt)
    st = opt.state_dict()
    report["opt_lr"] = st["param_groups"][0]["lr"]
    report["opt_betas"] = list(st["param_groups"][0]["betas"])
    report["opt_state"] = {str(k): {name: np.asarray(v.numpy() if hasattr(v, "numpy") else v).ravel()[:4].tolist()
                                    for name, v in s.items()} for k, s in st["state"].items()}

    # an unused parameter is a clear error at the next forward, on every rank alike
    class TwoHeads(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = nn.Linear(6, 3), nn.Linear(6, 3)

        def forward(self, t):
            return self.a(t)

    ddp = dist.DistributedDataParallel(TwoHeads())
    loss_fn(ddp(cr.tensor(x[shard])), cr.tensor(y[shard])).backward()
    try:
        ddp(cr.tensor(x[shard]))
        report["unused"] = None
    except dist.DistributedError as e:
        report["unused"] = str(e)

    # models that differ between ranks are refused, not broadcast into the wrong arrays
    try:
        dist.broadcast_parameters(nn.Linear(6, 3 + r))
        report["mismatch"] = None
    except dist.DistributedError as e:
        report["mismatch"] = str(e)

    dist.barrier()
    with open(f"{out}/rank{r}.json", "w") as f:
        json.dump(report, f)


if __name__ == "__main__":
    main(sys.argv[1])
