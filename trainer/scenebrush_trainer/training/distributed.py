"""One code path for CPU, one GPU and several GPUs under torchrun (DDP + SyncBatchNorm)."""

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn


@dataclass(frozen=True)
class Dist:
    rank: int = 0
    world: int = 1
    device: torch.device = torch.device("cpu")

    @property
    def main(self) -> bool:
        return self.rank == 0


def setup(device: str = "auto") -> Dist:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local = int(os.environ.get("LOCAL_RANK", "0"))
    cuda = torch.cuda.is_available() and device in ("auto", "cuda")
    if device == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("--device cuda: no CUDA GPU is available")
    dev = torch.device("cuda", local) if cuda else torch.device("cpu")
    if cuda:
        torch.cuda.set_device(dev)
    if world > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if cuda else "gloo")
    return Dist(rank, world, dev)


def wrap(net: nn.Module | None, d: Dist, sync_bn: bool = False) -> nn.Module | None:
    if net is None or d.world == 1:
        return net
    if sync_bn and d.device.type == "cuda":
        net = nn.SyncBatchNorm.convert_sync_batchnorm(net)
    ids = [d.device.index] if d.device.type == "cuda" else None
    return nn.parallel.DistributedDataParallel(net, device_ids=ids, broadcast_buffers=True)


def unwrap(net: nn.Module | None) -> nn.Module | None:
    return net.module if isinstance(net, nn.parallel.DistributedDataParallel) else net


def any_rank(flag: bool, d: Dist) -> bool:
    """True on every rank when any rank has the flag (a stop request reaches all of them together)."""
    if d.world == 1:
        return flag
    t = torch.tensor([1.0 if flag else 0.0], device=d.device)
    dist.all_reduce(t)
    return bool(t.item() > 0)


def cleanup(wait: bool = True) -> None:
    """Leaves the process group; with `wait`, only once every rank is done (rank 0 writes files last)."""
    if dist.is_initialized():
        if wait:
            dist.barrier()
        dist.destroy_process_group()
