"""In what precision a run trains (`train --amp auto|off|bf16|fp16`, default auto).

bf16 autocast runs the convolutions in oneDNN's bf16 kernels: on a CPU with native bf16 (AVX-512 BF16 or AMX) the
`small` preset trains 1.6-1.9x faster (SPADE, CC-FPSE; CLADE 1.2x) and, judged at equal steps by the study's
protocol, as well as float32 (trainer/README.md, "Mixed precision on a CPU"). It does not pay for narrow networks
(the `tiny` preset ran 0.7-0.95x: the casts cost more than the kernels save), nor on a CPU that emulates bf16. So
`auto` takes bf16 on such a CPU for networks at least as wide as `small`, float32 otherwise, and on CUDA float32
(bf16 there is measured for speed only: --amp bf16). The choice is recorded in the run's configuration, so a
resumed run keeps it."""

from dataclasses import dataclass

import torch

MODES = ("auto", "off", "bf16", "fp16")
MIN_NGF = 16  # the `small` preset's width


@dataclass(frozen=True)
class PrecisionChoice:
    amp: str
    reason: str


def native_bf16() -> bool:
    return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())


def choose(mode: str, ngf: int, device: torch.device, native: bool | None = None) -> PrecisionChoice:
    """`native`: whether the CPU has bf16 instructions (None: ask oneDNN)."""
    if mode not in MODES:
        raise ValueError(f"--amp {mode!r}: choose one of {', '.join(MODES)}")
    if mode == "fp16" and device.type != "cuda":
        raise ValueError("--amp fp16 needs a CUDA device; on a CPU use --amp bf16 (or off)")
    native = native_bf16() if native is None and device.type == "cpu" else native
    if mode != "auto":
        if mode == "bf16" and device.type == "cpu" and not native:
            return PrecisionChoice("bf16", "--amp bf16: this CPU has no native bf16 (AVX-512 BF16 or AMX), so it is "
                                   "emulated and slower than float32; --amp off trains faster here")  # fmt: skip
        return PrecisionChoice(mode, f"--amp {mode}")
    if device.type != "cpu":
        return PrecisionChoice("off", "--amp auto: float32 on CUDA; --amp bf16 for mixed precision")
    if not native:
        return PrecisionChoice("off", "--amp auto: float32 (this CPU has no native bf16)")
    if ngf < MIN_NGF:
        return PrecisionChoice("off", f"--amp auto: float32 (ngf {ngf} < {MIN_NGF}: too narrow for bf16 to pay)")
    return PrecisionChoice("bf16", "--amp auto: bf16 autocast (native bf16 on this CPU); --amp off for float32")
