//! Just enough of the ONNX file format (protobuf) to find how many classes a generator's graph
//! encodes. ONNX Runtime shows only a session's inputs and outputs, and a generator's `label`
//! input is int64 [N, H, W]: the one-hot encoding happens inside the graph, as the trainer
//! exports it: `Equal(Unsqueeze(label), ids)` with a constant `ids` of shape [1, C, 1, 1].

/// A protobuf field's value (wire types 0, 1, 2, 5).
enum Value<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
    Fixed,
}

struct Fields<'a> {
    buf: &'a [u8],
}

impl<'a> Fields<'a> {
    fn new(buf: &'a [u8]) -> Self {
        Self { buf }
    }

    fn varint(&mut self) -> Option<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let (&b, rest) = self.buf.split_first()?;
            self.buf = rest;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Some(v);
            }
        }
        None
    }

    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if n > self.buf.len() {
            return None;
        }
        let (head, rest) = self.buf.split_at(n);
        self.buf = rest;
        Some(head)
    }
}

impl<'a> Iterator for Fields<'a> {
    /// (field number, value); a malformed message ends the iteration.
    type Item = (u64, Value<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        if self.buf.is_empty() {
            return None;
        }
        let key = self.varint()?;
        let value = match key & 7 {
            0 => Value::Varint(self.varint()?),
            1 => {
                self.take(8)?;
                Value::Fixed
            }
            2 => {
                let n = usize::try_from(self.varint()?).ok()?;
                Value::Bytes(self.take(n)?)
            }
            5 => {
                self.take(4)?;
                Value::Fixed
            }
            _ => {
                // Groups (3, 4) are not used by ONNX: stop rather than misread.
                self.buf = &[];
                return None;
            }
        };
        Some((key >> 3, value))
    }
}

fn text(b: &[u8]) -> &str {
    std::str::from_utf8(b).unwrap_or("")
}

/// `dims` and `name` of a TensorProto.
fn tensor_dims(msg: &[u8]) -> (String, Vec<u64>) {
    let (mut name, mut dims) = (String::new(), Vec::new());
    for (field, value) in Fields::new(msg) {
        match (field, value) {
            (1, Value::Varint(d)) => dims.push(d),
            (1, Value::Bytes(packed)) => {
                let mut f = Fields::new(packed);
                while let Some(d) = f.varint() {
                    dims.push(d);
                }
            }
            (8, Value::Bytes(n)) => name = text(n).to_string(),
            _ => {}
        }
    }
    (name, dims)
}

struct Node<'a> {
    op: &'a str,
    inputs: Vec<&'a str>,
    outputs: Vec<&'a str>,
    /// The `value` tensor's dims of a Constant node.
    value_dims: Option<Vec<u64>>,
}

fn node(msg: &[u8]) -> Node<'_> {
    let mut n = Node {
        op: "",
        inputs: Vec::new(),
        outputs: Vec::new(),
        value_dims: None,
    };
    for (field, value) in Fields::new(msg) {
        let Value::Bytes(b) = value else { continue };
        match field {
            1 => n.inputs.push(text(b)),
            2 => n.outputs.push(text(b)),
            4 => n.op = text(b),
            5 => {
                // AttributeProto: name = 1, t = 5
                let mut is_value = false;
                let mut dims = None;
                for (f, v) in Fields::new(b) {
                    match (f, v) {
                        (1, Value::Bytes(name)) => is_value = text(name) == "value",
                        (5, Value::Bytes(t)) => dims = Some(tensor_dims(t).1),
                        _ => {}
                    }
                }
                if is_value {
                    n.value_dims = dims;
                }
            }
            _ => {}
        }
    }
    n
}

/// The number of classes the one-hot encoding of `input` compares against, if the graph in
/// `model` (the bytes of an .onnx file) has one; `None` when it cannot tell (another encoding,
/// or not an ONNX file).
pub fn one_hot_classes(model: &[u8], input: &str) -> Option<usize> {
    let graph = Fields::new(model).find_map(|(f, v)| match (f, v) {
        (7, Value::Bytes(g)) => Some(g),
        _ => None,
    })?;
    let mut constants: std::collections::HashMap<String, Vec<u64>> = Default::default();
    let mut nodes = Vec::new();
    for (field, value) in Fields::new(graph) {
        match (field, value) {
            (1, Value::Bytes(n)) => nodes.push(node(n)),
            (5, Value::Bytes(t)) => {
                let (name, dims) = tensor_dims(t);
                constants.insert(name, dims);
            }
            _ => {}
        }
    }
    for n in &nodes {
        if n.op == "Constant"
            && let (Some(dims), Some(out)) = (&n.value_dims, n.outputs.first())
        {
            constants.insert((*out).to_string(), dims.clone());
        }
    }
    // Nodes are stored in topological order: follow the label through shape-only ops.
    let mut derived = vec![input];
    for n in &nodes {
        let from_label = n.inputs.first().is_some_and(|i| derived.contains(i));
        match n.op {
            "Unsqueeze" | "Cast" | "Reshape" | "Identity" if from_label => {
                derived.extend(n.outputs.iter().copied());
            }
            "Equal" => {
                let (Some(a), Some(b)) = (n.inputs.first(), n.inputs.get(1)) else {
                    continue;
                };
                let other = if derived.contains(a) {
                    b
                } else if derived.contains(b) {
                    a
                } else {
                    continue;
                };
                if let Some(dims) = constants.get(*other) {
                    let count: u64 = dims.iter().product();
                    return usize::try_from(count).ok();
                }
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn varint(mut v: u64, out: &mut Vec<u8>) {
        while v >= 0x80 {
            out.push((v as u8) | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
    }

    fn bytes(field: u64, b: &[u8], out: &mut Vec<u8>) {
        varint(field << 3 | 2, out);
        varint(b.len() as u64, out);
        out.extend_from_slice(b);
    }

    fn node_msg(op: &str, inputs: &[&str], outputs: &[&str], value: Option<&[u64]>) -> Vec<u8> {
        let mut m = Vec::new();
        for i in inputs {
            bytes(1, i.as_bytes(), &mut m);
        }
        for o in outputs {
            bytes(2, o.as_bytes(), &mut m);
        }
        bytes(4, op.as_bytes(), &mut m);
        if let Some(dims) = value {
            let mut t = Vec::new();
            for d in dims {
                varint(1 << 3, &mut t);
                varint(*d, &mut t);
            }
            let mut a = Vec::new();
            bytes(1, b"value", &mut a);
            bytes(5, &t, &mut a);
            bytes(5, &a, &mut m);
        }
        m
    }

    fn model(initializer: bool, classes: u64) -> Vec<u8> {
        let mut g = Vec::new();
        if initializer {
            let mut t = Vec::new();
            let mut packed = Vec::new();
            for d in [1, classes, 1, 1] {
                varint(d, &mut packed);
            }
            bytes(1, &packed, &mut t);
            bytes(8, b"ids", &mut t);
            bytes(5, &t, &mut g);
        } else {
            bytes(
                1,
                &node_msg("Constant", &[], &["ids"], Some(&[1, classes, 1, 1])),
                &mut g,
            );
        }
        bytes(
            1,
            &node_msg("Unsqueeze", &["label", "ax"], &["u"], None),
            &mut g,
        );
        bytes(1, &node_msg("Equal", &["u", "ids"], &["eq"], None), &mut g);
        let mut m = Vec::new();
        varint(1 << 3, &mut m); // ir_version
        varint(8, &mut m);
        bytes(7, &g, &mut m);
        m
    }

    #[test]
    fn finds_the_one_hot_width_from_an_initializer_or_a_constant() {
        assert_eq!(one_hot_classes(&model(true, 12), "label"), Some(12));
        assert_eq!(one_hot_classes(&model(false, 182), "label"), Some(182));
        assert_eq!(one_hot_classes(&model(true, 12), "z"), None);
        assert_eq!(one_hot_classes(b"not an onnx file at all", "label"), None);
        let m = model(true, 12);
        assert_eq!(one_hot_classes(&m[..m.len() / 2], "label"), None);
    }
}
