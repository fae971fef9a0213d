"""Configuration as plain data: model sizes, training recipe, and their named presets."""

from dataclasses import asdict, dataclass, field, fields, replace


@dataclass(frozen=True)
class ModelConfig:
    generator: str = "spade"  # spade | ccfpse
    # spade | clade: the SPADE generator's label modulation (clade: per-class gamma/beta, Tan et al. 2020);
    # absent from older checkpoints and packages, which therefore load as spade (as do the few written while it
    # was called `norm`: from_dict ignores keys it does not know)
    modulation: str = "spade"
    discriminator: str = "fpse"  # patchgan | fp | fpse | oasis
    ngf: int = 64
    ndf: int = 64
    nhidden: int = 128  # SPADE-norm and kernel-prediction hidden width
    z_dim: int = 256  # 0: no noise input, the trunk starts from the label map
    encoder: bool = False  # VAE style encoder
    # z also sets a gamma and beta per channel in every SPADE/CLADE norm (networks.layers.StyleAffine), so that
    # style survives batch size 1's per-image normalisation, and the style encoder also sees the photo's mean
    # colours (StyleEncoder's colour path); absent from older checkpoints, which load as False
    style_norms: bool = False
    # full | light: how CC-FPSE predicts its per-pixel kernels and gates (networks.ccfpse_generator.PREDICTORS);
    # absent from older checkpoints and packages, which load as full
    predictors: str = "full"
    num_up: int = 5  # 5 "normal", 6 "more"
    height: int = 192
    width: int = 256


@dataclass(frozen=True)
class TrainConfig:
    steps: int = 1000
    batch_size: int = 1
    lr_g: float = 1e-4
    lr_d: float = 4e-4
    beta1: float = 0.0
    beta2: float = 0.9
    decay_from: float = 0.5  # fraction of steps after which lr decays linearly to zero
    lambda_feat: float = 10.0
    lambda_kld: float = 0.05
    lambda_vgg: float = 10.0
    lambda_l1: float = 0.0  # pixel L1 to the real photo; 0 = off (the papers' recipe has none)
    # mode seeking: two styles (z) per layout, rewarded for differing (up to ms_tau); 0 = off. With it
    # the pixel L1 counts only for the nearer style, which would otherwise pull both to the one photo.
    lambda_ms: float = 0.0
    ms_tau: float = 0.2  # |image change| / |z change| per layout, images in [-1, 1]
    ms_pool: int = 8  # compare styles as pool x pool block means: colour and light, not pixel noise
    lambda_labelmix: float = 10.0  # OASIS discriminator only: LabelMix consistency weight (the paper's 10)
    # DiffAugment on every image D sees: "off" or a comma-separated policy, e.g. "color,translation,cutout"
    diffaug: str = "off"
    vgg_weights: str | None = None  # torchvision VGG19 state dict; None = VGG loss off
    ema: float = 0.0  # decay of the generator's EMA weights; 0 = off
    seed: int = 0
    flip: bool = True
    amp: str = "off"  # off | bf16 (CPU or CUDA) | fp16 (CUDA) | auto (`train`'s default: precision.py)
    channels_last: bool = False  # CUDA only
    # torch.compile (inductor) of G and D: same numerics, faster steps after minutes of compiling (trainer/README.md)
    compile: bool = False
    checkpoint_every: int = 500
    sample_every: int = 500
    log_every: int = 10


# Loss weights that a fine-tune takes from the checkpoint it starts from, unless given
RECIPE = ("lambda_feat", "lambda_l1", "lambda_ms", "ms_tau", "ms_pool", "lambda_labelmix")

MODEL_PRESETS: dict[str, dict] = {
    # the published sizes
    "paper": dict(ngf=64, ndf=64, nhidden=128),
    # interactive on a CPU in the app (SPADE 192x256: 74-94 ms in onnxruntime on 2 cores), trains on a CPU
    "small": dict(ngf=16, ndf=32, nhidden=32),
    # for tests: seconds per step on a CPU
    "tiny": dict(ngf=4, ndf=8, nhidden=8, z_dim=32),
}

TRAIN_PRESETS: dict[str, dict] = {
    "default": dict(),
    # fine-tuning from a checkpoint on new photos of the same classes: a fifth of the learning rates
    "finetune": dict(lr_g=2e-5, lr_d=8e-5, decay_from=0.0),
}


def model_config(preset: str = "small", **overrides) -> ModelConfig:
    if preset not in MODEL_PRESETS:
        raise ValueError(f"unknown model preset {preset!r}; choose one of {', '.join(MODEL_PRESETS)}")
    return ModelConfig(**{**MODEL_PRESETS[preset], **drop_none(overrides)})


def train_config(preset: str = "default", **overrides) -> TrainConfig:
    if preset not in TRAIN_PRESETS:
        raise ValueError(f"unknown training preset {preset!r}; choose one of {', '.join(TRAIN_PRESETS)}")
    return TrainConfig(**{**TRAIN_PRESETS[preset], **drop_none(overrides)})


def validate(cfg: ModelConfig) -> ModelConfig:
    """Fails early, before any data is read, on settings the networks cannot take."""
    # the registries name what exists; late: config stays torch-free
    from ..networks import DISCRIMINATORS, GENERATORS, check_modulation

    if cfg.generator not in GENERATORS:
        raise ValueError(f"unknown generator {cfg.generator!r}; choose one of {', '.join(GENERATORS)}")
    check_modulation(cfg)
    if cfg.discriminator not in DISCRIMINATORS:
        raise ValueError(f"unknown discriminator {cfg.discriminator!r}; choose one of {', '.join(DISCRIMINATORS)}")
    if cfg.num_up not in (5, 6):
        raise ValueError(f"num_up must be 5 (normal) or 6 (more), got {cfg.num_up}")
    f = 2**cfg.num_up
    if cfg.height <= 0 or cfg.width <= 0 or cfg.height % f or cfg.width % f:
        raise ValueError(
            f"height {cfg.height} and width {cfg.width} must be positive multiples of {f} ({cfg.num_up} upsamplings), "
            f"e.g. 192x256 for 4:3 photos"
        )
    if min(cfg.ngf, cfg.ndf, cfg.nhidden) < 1 or cfg.z_dim < 0:
        raise ValueError(f"widths must be >= 1 and z_dim >= 0: {cfg}")
    if cfg.encoder and cfg.z_dim == 0:
        raise ValueError("the style encoder needs z_dim > 0")
    return cfg


def validate_recipe(model: ModelConfig, train: TrainConfig) -> None:
    """Fails early on a training setting that the (possibly fine-tuned) model cannot take."""
    from .diffaug import parse_policy  # late: config stays torch-free

    try:
        policy = parse_policy(train.diffaug)
    except ValueError as e:
        raise ValueError(f"--diffaug: {e}") from None
    if policy != train.diffaug:
        raise ValueError(f"--diffaug {train.diffaug!r}: write it as {policy!r}")
    if train.lambda_labelmix < 0:
        raise ValueError(f"--lambda-labelmix must be >= 0, got {train.lambda_labelmix}")
    if train.lambda_ms < 0 or train.ms_tau <= 0 or train.ms_pool < 1:
        raise ValueError(
            f"--lambda-ms must be >= 0, --ms-tau > 0 and --ms-pool >= 1, got {train.lambda_ms}, {train.ms_tau} and "
            f"{train.ms_pool}"
        )
    if train.lambda_ms > 0 and (model.z_dim == 0 or model.encoder):
        raise ValueError(
            "--lambda-ms needs a generator with a noise input and no style encoder (it compares two random styles "
            f"of a layout); this model has z_dim {model.z_dim} and encoder {model.encoder}: drop --lambda-ms"
        )


def recipe_notes(model: ModelConfig, train: TrainConfig) -> list[str]:
    """Settings that this discriminator ignores, for the log (defaults apply to every run, so not errors)."""
    if model.discriminator == "oasis":
        return [
            f"oasis discriminator: (N+1)-class cross-entropy, class-balanced, LabelMix weight {train.lambda_labelmix}; "
            f"no feature matching, so --lambda-feat ({train.lambda_feat}) has no effect"
        ]
    if train.lambda_labelmix != TrainConfig.lambda_labelmix:
        return [f"--lambda-labelmix ({train.lambda_labelmix}) applies to the oasis discriminator only: no effect"]
    return []


def styles_per_layout(model: ModelConfig, train: TrainConfig) -> int:
    return 2 if train.lambda_ms > 0 and model.z_dim > 0 and not model.encoder else 1


def drop_none(d: dict) -> dict:
    return {k: v for k, v in d.items() if v is not None}


def from_dict(cls, d: dict):
    names = {f.name for f in fields(cls)}
    return cls(**{k: v for k, v in d.items() if k in names})


__all__ = ["ModelConfig", "TrainConfig", "asdict", "replace", "field"]
