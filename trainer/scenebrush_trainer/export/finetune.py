"""The weights a shipped package carries for fine-tuning: `checkpoint.pt` beside model.onnx.

Only what `train --init-from` reads (G, D, the style encoder, configs, classes), in float16 to halve the
size: no optimiser state, so it cannot be resumed, and no data paths of the machine it was trained on.
"""

from pathlib import Path

from ..training import checkpoint


def write_finetune_checkpoint(ckpt: dict, package: Path) -> Path:
    """`ckpt`: the training checkpoint the package was exported from, as read for that export."""
    data = ckpt["data"]
    state = {
        "weights_only": True,
        "step": ckpt["step"],
        "world": ckpt.get("world", 1),
        "model_config": ckpt["model_config"],
        "train_config": ckpt["train_config"],
        "data": {
            "name": data["name"],
            "images": data["images"],
            "fingerprint": data["fingerprint"],
            "classes": data["classes"],
            "photos": "",
            "labels": "",
        },  # fmt: skip
        # fine-tuning starts from the weights the package was exported with (the EMA's)
        **checkpoint.travelling_weights(ckpt),
    }
    path = Path(package) / checkpoint.NAME
    checkpoint.save(path, state)
    return path
