"""SceneBrush's trainer: SPADE and CC-FPSE generators, trained on label/photo folders, exported to ONNX."""

__version__ = "0.1.0"
