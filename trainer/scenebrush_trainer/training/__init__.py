"""Training: configuration, the loop, checkpoints and progress events."""
