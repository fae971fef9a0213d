"""Float weights stored as float16 in an ONNX file, computed in float32: half the file, the same kernels.

Every float32 initializer of at least MIN_ELEMENTS values becomes a float16 initializer (named NAME + SUFFIX)
followed by a `Cast(to=FLOAT)` node whose output has the weight's old name, so every node reads the same
tensor name as before. ONNX Runtime's constant folding (on at its default optimisation level, and in the
app) computes the casts once when it opens the file: the session then holds float32 weights, rounded to
float16 (11 significant bits), and runs exactly the kernels of the float32 file at the same speed.

Small tensors (biases, norm parameters, the one-hot ids, Resize scales) stay as they are: they weigh
nothing and some must stay constant initializers of their own type. A weight that float16 cannot hold
(a value above 65504) stays float32 too.

`to_float32` undoes it exactly (float16 -> float32 is lossless), so a file can go back and forth.
"""

from pathlib import Path

import numpy as np

STORAGES = ("float16", "float32")
DEFAULT_STORAGE = "float16"
MIN_ELEMENTS = 1024
SUFFIX = ".float16"
FLOAT16_MAX = 65504.0


def _numel(tensor) -> int:
    return int(np.prod(tensor.dims, dtype=np.int64)) if tensor.dims else 1


def _cast_of(node, onnx) -> bool:
    return node.op_type == "Cast" and any(a.name == "to" and a.i == onnx.TensorProto.FLOAT for a in node.attribute)


def float16_pairs(model) -> list[tuple[int, object]]:
    """(index in graph.node, node) of each `Cast(to=FLOAT)` that reads a float16 initializer used by nothing
    else: the weights `to_float16` stored."""
    import onnx

    graph = model.graph
    half = {t.name for t in graph.initializer if t.data_type == onnx.TensorProto.FLOAT16}
    uses: dict[str, int] = {}
    for node in graph.node:
        for name in node.input:
            uses[name] = uses.get(name, 0) + 1
    outputs = {o.name for o in graph.output}
    return [
        (i, node)
        for i, node in enumerate(graph.node)
        if _cast_of(node, onnx)
        and len(node.input) == 1
        and node.input[0] in half
        and uses[node.input[0]] == 1
        and node.input[0] not in outputs
    ]


def storage_of(model) -> str:
    """ "float16" when the file holds weights stored by `to_float16` and no float32 initializer that it
    would convert; "float32" otherwise (nothing converted, or some left to convert)."""
    return "float16" if float16_pairs(model) and not _convertible(model) else "float32"


def _convertible(model) -> list[int]:
    import onnx
    from onnx import numpy_helper

    graph = model.graph
    inputs = {i.name for i in graph.input}
    found = []
    for i, t in enumerate(graph.initializer):
        if t.data_type != onnx.TensorProto.FLOAT or _numel(t) < MIN_ELEMENTS or t.name in inputs:
            continue
        values = numpy_helper.to_array(t)
        if np.isfinite(values).all() and np.abs(values).max(initial=0.0) <= FLOAT16_MAX:
            found.append(i)
    return found


def to_float16(model) -> int:
    """Stores the large float32 initializers of `model` (an onnx ModelProto, changed in place) as float16 +
    Cast; returns how many. A model already stored this way is left as it is (returns 0)."""
    import onnx
    from onnx import helper, numpy_helper

    graph = model.graph
    taken = {t.name for t in graph.initializer} | {n for node in graph.node for n in node.output}
    casts = []
    for i in _convertible(model):
        t = graph.initializer[i]
        name = t.name + SUFFIX
        while name in taken:
            name += "_"
        taken.add(name)
        half = numpy_helper.from_array(numpy_helper.to_array(t).astype(np.float16), name)
        casts.append(helper.make_node("Cast", [name], [t.name], to=onnx.TensorProto.FLOAT))
        graph.initializer[i].CopyFrom(half)
    if casts:  # initializers exist before any node runs: the casts go first, keeping the nodes sorted
        nodes = list(graph.node)
        del graph.node[:]
        graph.node.extend(casts + nodes)
    return len(casts)


def to_float32(model) -> int:
    """Undoes `to_float16` on `model` (changed in place): each float16 weight and its Cast become the float32
    initializer the nodes read; returns how many."""
    from onnx import numpy_helper

    graph = model.graph
    pairs = float16_pairs(model)
    if not pairs:
        return 0
    by_name = {t.name: i for i, t in enumerate(graph.initializer)}
    for _, node in pairs:
        t = graph.initializer[by_name[node.input[0]]]
        t.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(t).astype(np.float32), node.output[0]))
    drop = {i for i, _ in pairs}
    nodes = [n for i, n in enumerate(graph.node) if i not in drop]
    del graph.node[:]
    graph.node.extend(nodes)
    return len(pairs)


def restore(model, storage: str) -> int:
    """Stores `model`'s weights as `storage` ("float16" or "float32"); returns how many weights changed."""
    if storage not in STORAGES:
        raise ValueError(f"weights storage {storage!r}: choose {' or '.join(STORAGES)}")
    return to_float16(model) if storage == "float16" else to_float32(model)


def store_weights(src: Path, dst: Path, storage: str = DEFAULT_STORAGE) -> int:
    """Reads the ONNX file `src`, stores its weights as `storage` and writes the result to `dst` (which may be
    `src`; write to a temporary path for atomicity). Returns how many weights changed; 0 writes nothing."""
    import onnx

    model = onnx.load(str(src))
    changed = restore(model, storage)
    if changed:
        onnx.save(model, str(dst))
    return changed
