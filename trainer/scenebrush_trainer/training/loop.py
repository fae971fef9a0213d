"""The training loop: check the data, build or restore the run, step, report, checkpoint, stop cleanly."""

import copy
import signal
import time
from contextlib import nullcontext
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import torch

from ..data.check import check_dataset
from ..data.classes import class_list_from_json
from ..data.presets import DatasetSpec, camvid
from ..networks.inference import inference_norm, replace_batch_norm
from . import checkpoint, compiling, distributed, precision
from .carry import CARRIED
from .config import ModelConfig, TrainConfig, from_dict, recipe_notes, validate, validate_recipe
from .events import Events, log
from .runfolder import RunLock, remove_stale_temp_files_of_run
from .samples import save_grid
from .setup import (
    Run,
    batch_for,
    build_nets,
    checkpoint_path,
    epochs,
    learning_rate,
    load_data,
    load_weights,
    seed_everything,
    state_dict,
    step_generator,
)  # fmt: skip
from .step import step as train_step


class DataCheckFailed(RuntimeError):
    pass


@dataclass(frozen=True)
class RunOptions:
    out: Path
    data: DatasetSpec | None  # None: a resumed run's own data (else the CamVid preset)
    model: ModelConfig
    train: TrainConfig
    resume: bool = False
    init_from: Path | None = None  # fine-tune: weights from this checkpoint, fresh optimisers, step 0
    # fine-tune: loss weights not given on the command line, taken from the checkpoint's recipe
    inherit: tuple[str, ...] = ()
    until: int | None = None  # stop (with a checkpoint) at this step, to continue later with resume
    steps: int | None = None  # on resume: a new total number of steps (changes the lr schedule)
    device: str = "auto"
    compile: str = "auto"  # auto | on | off: how this process runs the run (compiling.py); not part of the recipe
    # fine-tune: the discriminator named on the command line; another kind than the checkpoint's starts fresh
    discriminator: str | None = None


# Ctrl-C, kill/service stop, and a closed terminal
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class StopRequest:
    """SIGINT/SIGTERM/SIGHUP set a flag; the loop checkpoints and exits at the next step boundary. A signal
    before the first step (while the data loads) still gets one step and a checkpoint at step 1, so the
    run folder always holds a resumable run."""

    def __enter__(self):
        self.signal: str | None = None
        self._previous = {sig: signal.signal(sig, self._handle) for sig in STOP_SIGNALS}
        return self

    def __exit__(self, *exc):
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)

    def _handle(self, signum, _frame):
        self.signal = signal.Signals(signum).name
        log.warning("%s received: stopping after this step", self.signal)


def train(opts: RunOptions, events: Events) -> Run:
    d = distributed.setup(opts.device)
    events.enabled = events.enabled and d.main
    if not d.main:
        log.setLevel("WARNING")  # one rank's logs are enough
    # one trainer per run folder: the main process holds the lock (the others write nothing there)
    with RunLock(opts.out) if d.main else nullcontext(), StopRequest() as stop:
        if d.main:
            remove_stale_temp_files_of_run(opts.out)
        return loop(prepare(opts, d, events), opts, events, stop)


def loop(run: Run, opts: RunOptions, events: Events, stop: StopRequest) -> Run:
    cfg, t0, meter = run.train, time.time(), Meter(run.step)
    events.emit("start", step=run.step, steps=cfg.steps, out=str(opts.out), device=str(run.dist.device),
                world=run.dist.world, images=len(run.data), model=asdict(run.model), train=asdict(cfg))  # fmt: skip
    if cfg.compile:  # torch.compile works at the first step, for minutes: the app says so until a step comes
        events.emit("compile", phase="start", nets=["G", "D"], note=run.compile_note)
    end = min(cfg.steps, opts.until) if opts.until is not None else cfg.steps
    if run.step >= end:
        log.info("%s is already at step %d: nothing to do (the checkpoint is left unchanged)", opts.out, run.step)
    while run.step < end:
        for opt, base in ((run.nets.opt_g, cfg.lr_g), (run.nets.opt_d, cfg.lr_d)):
            for group in opt.param_groups:
                group["lr"] = learning_rate(base, run.step, cfg)
        label, real, z, eps = batch_for(run, run.step)
        rng = step_generator(cfg.seed, run.step, run.dist.rank, "step")
        losses = train_step(run.nets, label, real, z, eps, cfg, rng)
        if run.ema:
            run.ema.update(distributed.unwrap(run.nets.G))
        run.step += 1
        if run.step % cfg.log_every == 0 or run.step == end:
            meter.report(run, losses, events)
        if cfg.sample_every and run.step % cfg.sample_every == 0 and run.dist.main:
            write_sample(run, opts.out, events)
        stopping = distributed.any_rank(stop.signal is not None, run.dist)
        if run.step % cfg.checkpoint_every == 0 or run.step == end or stopping:
            save_checkpoint(run, opts.out, events)
        if stopping:
            reason = stop.signal or "signal on another rank"
            events.emit(
                "stopped", step=run.step, steps=cfg.steps, reason=reason, checkpoint=str(checkpoint_path(opts.out))
            )
            return run
    if run.step < cfg.steps:
        events.emit(
            "stopped", step=run.step, steps=cfg.steps, reason="until", checkpoint=str(checkpoint_path(opts.out))
        )
    else:
        events.emit("finished", step=run.step, steps=cfg.steps, seconds=round(time.time() - t0, 1),
                    checkpoint=str(checkpoint_path(opts.out)))  # fmt: skip
    return run


class Meter:
    """Throughput since the last report, for step events and logs."""

    def __init__(self, step: int):
        self.since, self.last = time.time(), step

    def report(self, run: Run, losses: dict, events: Events) -> None:
        cfg, per_step = run.train, run.train.batch_size * run.dist.world
        rate = (run.step - self.last) * per_step / max(time.time() - self.since, 1e-9)
        eta = (cfg.steps - run.step) * per_step / max(rate, 1e-9)
        events.emit("step", step=run.step, steps=cfg.steps, epoch=round(epochs(run, run.step), 3), losses=losses,
                    lr_g=learning_rate(cfg.lr_g, run.step - 1, cfg), images_per_s=round(rate, 3),
                    eta_s=round(eta, 1))  # fmt: skip
        shown = " ".join(f"{k} {v:.3f}" for k, v in losses.items())
        log.info("step %d/%d %s %.2f img/s", run.step, cfg.steps, shown, rate)
        self.since, self.last = time.time(), run.step


def prepare(opts: RunOptions, d: distributed.Dist, events: Events) -> Run:
    ckpt = checkpoint.load(checkpoint_path(opts.out)) if opts.resume else None
    init = checkpoint.load(opts.init_from) if opts.init_from and not ckpt else None
    fresh_d = False  # a fine-tune with another kind of discriminator than its checkpoint's
    model, train_cfg = opts.model, opts.train
    if ckpt and ckpt.get("weights_only"):
        raise checkpoint.CheckpointError(
            f"{checkpoint_path(opts.out)} holds weights for fine-tuning only (no optimiser state) and cannot be "
            f"resumed; start a new run from it with --init-from {opts.out}"
        )
    if ckpt:  # a resumed run keeps its configuration, except how this process runs it (compiled or not)
        check_resume_target(ckpt["step"], opts)
        model = from_dict(ModelConfig, ckpt["model_config"])
        steps = opts.steps or ckpt["train_config"]["steps"]
        train_cfg = from_dict(TrainConfig, {**ckpt["train_config"], "steps": steps})
    elif init:  # fine-tuning keeps the architecture and sizes, and the loss weights unless given
        model = from_dict(ModelConfig, init["model_config"])
        # the additions a fine-tune may make: style norms (starting at zero: the same images at first) and a style
        # encoder (fresh: its z starts near the prior the generator was trained on)
        if opts.model.style_norms and not model.style_norms:
            model = replace(model, style_norms=True)
            log.info("adding style norms to %s's generator (starting at zero)", opts.init_from)
        if opts.model.predictors == "light" and model.predictors != "light":
            model = replace(model, predictors="light")
            log.info("folding %s's CC-FPSE predictors into light ones (1x1 output convs from a shared hidden conv)",
                     opts.init_from)  # fmt: skip
        if opts.discriminator and opts.discriminator != model.discriminator:
            fresh_d = True
            log.info("replacing %s's %s discriminator with a fresh %s one (the generator keeps its weights)",
                     opts.init_from, model.discriminator, opts.discriminator)  # fmt: skip
            model = replace(model, discriminator=opts.discriminator)
        if opts.model.encoder and not model.encoder:
            model = replace(model, encoder=True)
            log.info("adding a style encoder to %s's model (fresh weights)", opts.init_from)
        train_cfg = inherit_recipe(train_cfg, init["train_config"], opts.inherit, opts.init_from)
    validate(model)
    validate_recipe(model, train_cfg)
    start = ckpt["step"] if ckpt else 0
    end = min(train_cfg.steps, opts.until) if opts.until is not None else train_cfg.steps
    amp = precision.choose(train_cfg.amp, model.ngf, d.device)
    train_cfg = replace(train_cfg, amp=amp.amp)
    log.info("%s", amp.reason)
    choice = compiling.choose(opts.compile, end - start, train_cfg.batch_size, model.height, model.width, amp.amp)
    train_cfg = replace(train_cfg, compile=choice.compile)
    log.info("%s", choice.reason)
    spec = opts.data or (saved_spec(ckpt) if ckpt else camvid())
    report = check_dataset(spec)
    events.emit("check", ok=report.ok, dataset=spec.name, pairs=len(report.pairs),
                problems=[p.to_json() for p in report.problems])  # fmt: skip
    if not report.ok:
        for p in report.problems:
            log.error("%s", p.message)
        raise DataCheckFailed(f"{report.summary()}; fix them (or remove the files) and start again")
    log.info("%s", report.summary())
    log.info("VGG perceptual loss: %s", f"on ({train_cfg.vgg_weights})" if train_cfg.vgg_weights else
             "off (no ImageNet VGG19 weights available; results differ from the papers, which use it)")  # fmt: skip
    for note in recipe_notes(model, train_cfg):
        log.info("%s", note)
    seed_everything(train_cfg.seed)
    torch.use_deterministic_algorithms(d.device.type == "cpu", warn_only=True)
    data = load_data(report, model)
    nets, ema = build_nets(model, train_cfg, len(spec.classes), d)
    run = Run(model, train_cfg, nets, ema, data, d, compile_note=choice.reason if choice.compile else "")
    if ckpt:
        if ckpt["data"]["fingerprint"] != data.fingerprint():
            raise checkpoint.CheckpointError(
                f"{opts.out}: the data differs from the data this run was trained on ({ckpt['data']['name']}, "
                f"{ckpt['data']['images']} images); resume with the same data, or fine-tune with --init-from"
            )
        carried = bool(ckpt.get(CARRIED))
        load_weights(run, ckpt, optimisers=not carried)
        if not carried:  # a carried run's draws still come from (seed, step): see step_generator
            checkpoint.set_rng_state(ckpt["rng"])
        run.step = ckpt["step"]
        log.info("resumed %s at step %d%s", opts.out, run.step, " (carried: float16 weights, G from its EMA, "
                 "optimisers start afresh)" if carried else "")  # fmt: skip
    elif init:
        if len(init["data"]["classes"]["classes"]) != len(spec.classes):
            raise checkpoint.CheckpointError(
                f"{opts.init_from} was trained on {len(init['data']['classes']['classes'])} classes, the data has "
                f"{len(spec.classes)}; fine-tuning needs the same classes"
            )
        load_weights(run, init, optimisers=False, discriminator=not fresh_d)
        log.info("fine-tuning from %s (step %d of its run)", opts.init_from, init["step"])
    elif checkpoint_path(opts.out).exists():
        raise checkpoint.CheckpointError(
            f"{opts.out} already holds a run; continue it with --resume or use another --out"
        )
    return run


def check_resume_target(reached: int, opts: RunOptions) -> None:
    """--steps/--until below the step a run reached would end it behind its own checkpoint: refused, and the
    checkpoint is left as it is. Equal to it: nothing to do (the loop runs no step and writes nothing)."""
    for option, value in (("--steps", opts.steps), ("--until", opts.until)):
        if value is not None and value < reached:
            raise ValueError(
                f"{option} {value} is below step {reached}, which the run in {opts.out} already reached; give "
                f"{option} above {reached} to train further (its checkpoint is left unchanged)"
            )


def inherit_recipe(train_cfg: TrainConfig, saved: dict, names: tuple[str, ...], source) -> TrainConfig:
    """A fine-tune goes on with the losses its model was trained with (the mode-seeking term keeps its styles
    apart, the L1 its colours); the command line overrides each."""
    taken = {k: saved[k] for k in names if k in saved and saved[k] != getattr(train_cfg, k)}
    if taken:
        log.info("fine-tuning with the loss weights of %s: %s", source, ", ".join(f"{k} {v}" for k, v in taken.items()))
    return replace(train_cfg, **taken)


def saved_spec(ckpt: dict) -> DatasetSpec:
    data = ckpt["data"]
    classes = class_list_from_json(data["classes"], "checkpoint classes")
    return DatasetSpec(data["name"], Path(data["photos"]), Path(data["labels"]), classes)


def save_checkpoint(run: Run, out: Path, events: Events) -> None:
    if not run.dist.main:
        return
    path = checkpoint_path(out)
    checkpoint.save(path, state_dict(run))
    events.emit("checkpoint", step=run.step, path=str(path))
    log.info("checkpoint %s at step %d", path, run.step)


@torch.no_grad()
def write_sample(run: Run, out: Path, events: Events) -> None:
    n = min(4, len(run.data))
    photos, labels = run.data.batch(torch.linspace(0, len(run.data) - 1, n).long())  # spread over the data
    g = torch.Generator().manual_seed(run.train.seed)
    z = torch.randn(n, run.model.z_dim, generator=g).to(run.dist.device) if run.model.z_dim > 0 else None
    G = run.ema.model if run.ema else distributed.unwrap(run.nets.G)
    # as the exported package will normalise (per image after batch-1 training), on the training device
    net = replace_batch_norm(copy.deepcopy(G).eval(), inference_norm(asdict(run.train), world=run.dist.world))
    fake = net(labels.to(run.dist.device), z)
    path = Path(out) / "samples" / f"step_{run.step:07d}.png"
    save_grid(path, labels, photos.float() / 127.5 - 1, fake, run.data.spec.classes)
    events.emit("sample", step=run.step, path=str(path))
