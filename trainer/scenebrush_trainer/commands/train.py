"""`train`: trains (or resumes, or fine-tunes) a generator against a discriminator on a dataset."""

from pathlib import Path

import torch

from ..export.from_checkpoint import export_checkpoint
from ..networks import DISCRIMINATORS, GENERATORS, MODULATIONS
from ..training import distributed, precision
from ..training.compiling import MODES
from ..training.config import MODEL_PRESETS, RECIPE, TRAIN_PRESETS, model_config, train_config
from ..training.diffaug import OFF, POLICIES, parse_policy
from ..training.events import Events, log
from ..training.loop import RunOptions, train
from .argtypes import integer, number, parsed_by
from .common import add_data_args, data_spec

NAME = "train"
HELP = "train, resume or fine-tune a generator; progress as JSON lines on stdout"


def add_arguments(p) -> None:
    add_data_args(p)
    g = p.add_argument_group("model")
    g.add_argument("--preset", default="small", choices=sorted(MODEL_PRESETS), help="network widths (default small)")
    g.add_argument("--generator", choices=list(GENERATORS), default="spade")
    g.add_argument("--discriminator", choices=list(DISCRIMINATORS),
                   help="default fpse; with --init-from the model's own, unless this names another kind: then a "
                   "fresh discriminator of that kind (the generator keeps its weights)")  # fmt: skip
    g.add_argument("--modulation", choices=list(MODULATIONS), default="spade",
                   help="the spade generator's label modulation: spade (default; convolutions predict gamma/beta) "
                   "or clade (a learned gamma/beta per class, Tan et al. 2020): far cheaper at inference, quality "
                   "per the paper similar; see trainer/README.md")  # fmt: skip
    for name in ("ngf", "ndf", "nhidden"):
        g.add_argument(f"--{name}", type=integer(1), help="override the preset")
    g.add_argument("--z-dim", type=integer(0, hint=" (0: no noise input)"), help="override the preset")
    for name in ("height", "width"):  # the multiple of 32 (64 with --more) is checked with the model
        g.add_argument(f"--{name}", type=integer(32, hint=" (a multiple of 32, or of 64 with --more)"),
                       help="override the preset")  # fmt: skip
    g.add_argument("--encoder", action="store_true",
                   help="train a VAE style encoder (exported as encoder.onnx); with --init-from, adds one to the "
                   "model fine-tuned")  # fmt: skip
    g.add_argument("--style-norms", action="store_true",
                   help="spade generator: z also sets a gamma and beta per channel in every norm, and the style "
                   "encoder also sees the photo's mean colours, so that a style (a seed, or a photo through "
                   "--encoder) can change light and colour, which per-image normalisation removes otherwise; with "
                   "--init-from, adds them to the model fine-tuned (starting at zero: the same images at first)",
    )  # fmt: skip
    g.add_argument("--light-predictors", action="store_true",
                   help="ccfpse generator: one shared hidden conv and 1x1 output convs predict each block's per-pixel "
                   "kernels and gates (about 2x faster to run and to train; see trainer/README.md); with --init-from, "
                   "folds the model's full predictors into light ones")  # fmt: skip
    g.add_argument("--more", action="store_true", help="6 upsamplings instead of 5 (doubles the size)")
    g = p.add_argument_group("training")
    g.add_argument("--train-preset", default="default", choices=sorted(TRAIN_PRESETS),
                   help="learning rates: default (TTUR 1e-4/4e-4) or finetune (a fifth of them)")  # fmt: skip
    # every value checked here, naming the option, rather than failing steps later (or training nothing)
    for name, kind in (
        ("steps", integer(1, hint=" (the run's total number of steps)")),
        ("batch-size", integer(1)),
        ("lr-g", number(0, low_open=True)),
        ("lr-d", number(0, low_open=True)),
        ("ema", number(0, 1, high_open=True, hint=" (0: off; e.g. 0.999)")),
        ("seed", integer(0, 2**32 - 1)),
        ("checkpoint-every", integer(1, hint=" (steps between checkpoints)")),
        ("sample-every", integer(0, hint=" (0: no samples)")),
        ("log-every", integer(1, hint=" (steps between step events)")),
        ("lambda-feat", number(0)),
        ("lambda-l1", number(0, hint=" (0: off)")),
        ("decay-from", number(0, 1, hint=" (a fraction of --steps)")),
        ("lambda-ms", number(0, hint=" (0: off)")),
        ("ms-tau", number(0, low_open=True)),
        ("ms-pool", integer(1)),
        ("lambda-labelmix", number(0, hint=" (oasis discriminator only; 0: off)")),
    ):
        g.add_argument(f"--{name}", type=kind)
    g.add_argument("--no-flip", action="store_true", help="no horizontal flip augmentation")
    g.add_argument("--diffaug", type=parsed_by(parse_policy, "policy"), metavar="POLICY",
                   help=f"DiffAugment on every image D sees: {OFF} (default) or a comma-separated list of "
                   f"{', '.join(POLICIES)}, e.g. {','.join(POLICIES)}")  # fmt: skip
    g.add_argument("--amp", choices=precision.MODES, default="auto",
                   help="mixed precision: bf16 (a CPU or CUDA), fp16 (CUDA) or off; auto (default) takes bf16 on a "
                   "CPU with native bf16 for networks as wide as `small` or wider, else off (trainer/README.md, "
                   "\"Mixed precision on a CPU\"); a resumed run keeps its own")  # fmt: skip
    g.add_argument("--channels-last", action="store_true", help="channels-last memory format (CUDA only)")
    g.add_argument("--compile", nargs="?", const="on", default="auto", choices=MODES,
                   help="torch.compile G and D: minutes of compiling, then 1.3-1.5x faster steps; auto (default) "
                   "compiles runs long enough to pay for it (trainer/README.md); --compile alone: on")  # fmt: skip
    g.add_argument("--vgg-weights", metavar="FILE", help="torchvision VGG19 state dict: turns the VGG loss on")
    g = p.add_argument_group("run")
    g.add_argument("--out", type=Path, required=True, help="run folder: checkpoint.pt, samples/")
    g.add_argument("--resume", action="store_true", help="continue the run in --out from its checkpoint")
    g.add_argument("--init-from", type=Path, metavar="CKPT", help="fine-tune: start from this checkpoint's weights")
    g.add_argument("--until", type=integer(1), metavar="STEP", help="stop with a checkpoint at this step")
    g.add_argument("--events", metavar="FILE", help="write events to FILE instead of stdout")
    g.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    g.add_argument("--threads", type=integer(1), help="CPU threads for PyTorch (default: all cores)")
    g.add_argument("--export-to", type=Path, metavar="DIR", help="export a model package here when training ends")
    g.add_argument("--export-id", help="package id (default: the --export-to folder's name)")
    g.add_argument("--export-name", help="package display name")


def options(args) -> RunOptions:
    model = model_config(
        args.preset, generator=args.generator, modulation=args.modulation, discriminator=args.discriminator,
        ngf=args.ngf, ndf=args.ndf, nhidden=args.nhidden, z_dim=args.z_dim, height=args.height, width=args.width,
        encoder=args.encoder or None, num_up=6 if args.more else None, style_norms=args.style_norms or None,
        predictors="light" if args.light_predictors else None,
    )  # fmt: skip
    train_cfg = train_config(
        args.train_preset, steps=args.steps, batch_size=args.batch_size, lr_g=args.lr_g, lr_d=args.lr_d,
        ema=args.ema, seed=args.seed, checkpoint_every=args.checkpoint_every, sample_every=args.sample_every,
        log_every=args.log_every, lambda_feat=args.lambda_feat, lambda_l1=args.lambda_l1, decay_from=args.decay_from,
        lambda_ms=args.lambda_ms, ms_tau=args.ms_tau, ms_pool=args.ms_pool, lambda_labelmix=args.lambda_labelmix,
        diffaug=args.diffaug,
        flip=False if args.no_flip else None, amp=args.amp, channels_last=args.channels_last or None,
        vgg_weights=args.vgg_weights,
    )  # fmt: skip
    data = data_spec(args) if given_data(args) else None
    inherit = tuple(k for k in RECIPE if getattr(args, k) is None)
    return RunOptions(
        out=args.out, data=data, model=model, train=train_cfg, resume=args.resume, init_from=args.init_from,
        inherit=inherit, discriminator=args.discriminator,
        until=args.until, device=args.device, steps=args.steps, compile=args.compile,
    )  # fmt: skip


def given_data(args) -> bool:
    return any((args.dataset, args.data, args.photos, args.labels, args.classes))


def run(args) -> int:
    if args.threads:
        torch.set_num_threads(args.threads)
    events = Events(args.events)
    done = False
    try:
        result = train(options(args), events)
        finished = result.step >= result.train.steps
        if args.export_to and finished and result.dist.main:
            info = export_checkpoint(args.out / "checkpoint.pt", args.export_to, args.export_id or args.export_to.name,
                                     args.export_name)  # fmt: skip
            events.emit("exported", **info)
            log.info("exported %s", args.export_to)
        done = True
        return 0
    finally:
        events.close()
        distributed.cleanup(wait=done)  # after a failure on one rank, waiting for the others would hang
