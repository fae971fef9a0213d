"""Whether a run compiles G and D with torch.compile (`train --compile auto|on|off`, default auto).

Compiling costs minutes before the first step (10-17 on a 2-core CPU, measured: trainer/README.md) and then makes
each step 1.26x (CC-FPSE) to 1.46x (SPADE) faster, so it pays only on long runs. `auto` compiles when what is
left to train is worth AUTO_IMAGES images at 192x256 (steps x batch, scaled by pixels): about 3.5 hours of SPADE
or 7 of CC-FPSE on one eager thread (0.83 and 0.40 images/s), where 1.46x and 1.26x save about 65 and 85
minutes; short runs (tests, the study's 2500 steps at 96x128, most fine-tunes) stay eager. Those figures are
float32's: under bf16 autocast (`--amp`, training/precision.py) compiling measured 1.05x over eager bf16 after 9.5
minutes of compiling (SPADE + FP, 96x128, one thread), so `auto` leaves bf16 runs eager."""

from dataclasses import dataclass

MODES = ("auto", "on", "off")
AUTO_IMAGES = 10_000
REFERENCE_PIXELS = 192 * 256


@dataclass(frozen=True)
class CompileChoice:
    compile: bool
    reason: str


def choose(mode: str, steps_left: int, batch_size: int, height: int, width: int, amp: str = "off") -> CompileChoice:
    if mode not in MODES:
        raise ValueError(f"--compile {mode!r}: choose one of {', '.join(MODES)}")
    if mode != "auto":
        return CompileChoice(mode == "on", f"--compile {mode}")
    if amp == "bf16":
        return CompileChoice(False, "--compile auto: eager (under bf16, compiling measured 1.05x); --compile on")
    work = max(steps_left, 0) * batch_size * height * width / REFERENCE_PIXELS
    left = f"--compile auto: {steps_left} steps of batch {batch_size} at {height}x{width} left, worth {work:.0f} images"
    if work >= AUTO_IMAGES:
        return CompileChoice(True, f"{left} at 192x256 (>= {AUTO_IMAGES}): compiling pays; --compile off to skip it")
    return CompileChoice(False, f"{left} at 192x256 (< {AUTO_IMAGES}): eager; --compile on to compile")
