"""Export: ONNX files checked with onnxruntime, and the model package (model.json)."""
