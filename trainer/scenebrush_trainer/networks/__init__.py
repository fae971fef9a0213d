"""The networks, one module each, and builders from a ModelConfig."""

from torch import nn

from .ccfpse_generator import PREDICTORS, CCFPSEGenerator, light_state
from .fp_discriminator import FPDiscriminator
from .layers import MODULATIONS, init_weights
from .oasis_discriminator import OASISDiscriminator
from .patchgan import MultiScalePatchGAN
from .spade_generator import SPADEGenerator
from .style_encoder import StyleEncoder

GENERATORS = {"spade": SPADEGenerator, "ccfpse": CCFPSEGenerator}
DISCRIMINATORS = ("patchgan", "fp", "fpse", "oasis")


def build_generator(cfg, num_classes: int, init_gain: float = 0.02) -> nn.Module:
    if cfg.generator not in GENERATORS:
        raise ValueError(f"unknown generator {cfg.generator!r}; choose one of {', '.join(GENERATORS)}")
    check_modulation(cfg)
    if cfg.generator == "spade":
        kw = {"modulation": cfg.modulation, "style_norms": cfg.style_norms}
    else:
        kw = {"predictors": cfg.predictors}
    net = GENERATORS[cfg.generator](
        num_classes, cfg.height, cfg.width, ngf=cfg.ngf, nhidden=cfg.nhidden, z_dim=cfg.z_dim, num_up=cfg.num_up, **kw
    )
    init_weights(net, init_gain)
    return net


def check_modulation(cfg) -> None:
    """The label modulation (ModelConfig.modulation), style norms and predictors exist and the generator takes them:
    CC-FPSE's only SPADE norm (a block's shortcut) is conditioned on label-pyramid features, which have no classes to
    look gamma up by."""
    if cfg.modulation not in MODULATIONS:
        raise ValueError(f"unknown modulation {cfg.modulation!r}; choose one of {', '.join(MODULATIONS)}")
    if cfg.modulation != "spade" and cfg.generator != "spade":
        raise ValueError(f"modulation {cfg.modulation!r} applies to the spade generator only, not {cfg.generator!r}")
    if cfg.predictors not in PREDICTORS:
        raise ValueError(f"unknown predictors {cfg.predictors!r}; choose one of {', '.join(PREDICTORS)}")
    if cfg.predictors != "full" and cfg.generator != "ccfpse":
        raise ValueError(f"--light-predictors applies to the ccfpse generator, not {cfg.generator!r}")
    if cfg.style_norms and (cfg.generator != "spade" or cfg.z_dim <= 0):
        raise ValueError(
            f"--style-norms applies to the spade generator with z (z_dim > 0), not {cfg.generator!r} with z_dim "
            f"{cfg.z_dim}"
        )


def fit_generator_state(net: nn.Module, state: dict) -> dict:
    """A generator state dict as `net` takes it: full CC-FPSE predictors folded into light ones when `net` has light
    ones and the state full ones (a --light-predictors fine-tune); anything else as it is."""
    light = isinstance(net, CCFPSEGenerator) and net.predictors == "light"
    return light_state(state) if light and any(k.endswith(".kernels_1.2.weight") for k in state) else state


def build_discriminator(cfg, num_classes: int) -> nn.Module:
    if cfg.discriminator == "patchgan":
        net = MultiScalePatchGAN(num_classes, cfg.ndf)
    elif cfg.discriminator in ("fp", "fpse"):
        net = FPDiscriminator(num_classes, cfg.ndf, semantic_embedding=cfg.discriminator == "fpse")
    elif cfg.discriminator == "oasis":
        # Spectral-norm convs keep PyTorch's default init, as in the reference (its init reaches only their cached
        # weight). From xavier 0.02 the first Adam steps change the tiny weights so much that one power iteration
        # underestimates sigma ~3x, and this U-Net without normalisation compounds it: logits ~1e4 at step 2.
        net = OASISDiscriminator(num_classes, cfg.ndf, cfg.height, cfg.width)
        init_weights(net.classify)
        return net
    else:
        raise ValueError(f"unknown discriminator {cfg.discriminator!r}; choose one of {', '.join(DISCRIMINATORS)}")
    init_weights(net)
    return net


def build_encoder(cfg) -> nn.Module | None:
    if not cfg.encoder:
        return None
    if cfg.z_dim <= 0:
        raise ValueError("the style encoder needs z_dim > 0")
    net = StyleEncoder(cfg.height, cfg.width, cfg.ndf, cfg.z_dim, colour=cfg.style_norms)
    init_weights(net)
    return net
