"""The evaluation subcommands, registered by the command line next to the trainer's own."""

from . import ablation, evaluate, export_segmenter, quantize, samples, study, train_segmenter

COMMANDS = [train_segmenter, export_segmenter, evaluate, quantize, ablation, study, samples]
