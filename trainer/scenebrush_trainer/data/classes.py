"""Class lists: ids 0..C-1 with a name and a display colour; one id may mean "don't care"."""

import json
from dataclasses import dataclass, field
from pathlib import Path


class ClassListError(ValueError):
    pass


@dataclass(frozen=True)
class ClassList:
    names: tuple[str, ...]
    colors: tuple[tuple[int, int, int], ...]
    dontcare: int | None = None
    # raw label value -> class id, applied when reading label maps (COCO-Stuff: 255 -> 182)
    remap: dict[int, int] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.names)

    def to_json(self) -> list[dict]:
        return [{"id": i, "name": n, "color": list(c)} for i, (n, c) in enumerate(zip(self.names, self.colors))]

    def file_json(self) -> dict:
        return {
            "classes": self.to_json(),
            "dontcare": self.dontcare,
            "remap": {str(k): v for k, v in self.remap.items()},
        }


def load_class_list(path: Path) -> ClassList:
    """Reads a class list file: {"classes": [{id, name, color}], "dontcare": id|null, "remap": {raw: id}}
    or a bare list of classes where one entry may carry "dontcare": true."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise ClassListError(f"cannot read class list {path}: {e}") from e
    return class_list_from_json(data, str(path))


def class_list_from_json(data, source: str = "class list") -> ClassList:
    entries = data if isinstance(data, list) else data.get("classes") if isinstance(data, dict) else None
    if not isinstance(entries, list) or not entries:
        raise ClassListError(f'{source}: expected a list of classes [{{id, name, color}}, ...] or {{"classes": [...]}}')
    dontcare = data.get("dontcare") if isinstance(data, dict) else None
    by_id = {}
    for e in entries:
        if not isinstance(e, dict) or not isinstance(e.get("id"), int) or not isinstance(e.get("name"), str):
            raise ClassListError(f"{source}: every class needs an integer id and a name, got {e!r}")
        color = e.get("color", [0, 0, 0])
        if not (
            isinstance(color, list) and len(color) == 3 and all(isinstance(v, int) and 0 <= v <= 255 for v in color)
        ):
            raise ClassListError(
                f"{source}: class {e['id']} ({e['name']}) needs color [r, g, b] in 0..255, got {color!r}"
            )
        if e["id"] in by_id:
            raise ClassListError(f"{source}: class id {e['id']} appears twice")
        by_id[e["id"]] = (e["name"], tuple(color))
        if e.get("dontcare") is True:
            dontcare = e["id"]
    ids = sorted(by_id)
    if ids != list(range(len(ids))):
        raise ClassListError(f"{source}: class ids must be 0..{len(ids) - 1} without gaps, got {ids}")
    if dontcare is not None and dontcare not in by_id:
        raise ClassListError(f"{source}: dontcare {dontcare} is not one of the class ids 0..{len(ids) - 1}")
    remap_raw = data.get("remap", {}) if isinstance(data, dict) else {}
    try:
        remap = {int(k): int(v) for k, v in remap_raw.items()}
    except (TypeError, ValueError, AttributeError) as e:
        raise ClassListError(f"{source}: remap must map raw label values to class ids, got {remap_raw!r}") from e
    for k, v in remap.items():
        if v not in by_id:
            raise ClassListError(f"{source}: remap {k} -> {v}: {v} is not a class id")
    return ClassList(
        names=tuple(by_id[i][0] for i in ids), colors=tuple(by_id[i][1] for i in ids), dontcare=dontcare, remap=remap
    )


# The CamVid classes come from camvid_classes.json beside this file: the one table the app reads too
# (src/models/classes.rs includes this very file), so the app, the trainer and trainer/examples/ (a link
# to it) cannot differ.
CAMVID_FILE = Path(__file__).with_name("camvid_classes.json")
CAMVID = load_class_list(CAMVID_FILE)
