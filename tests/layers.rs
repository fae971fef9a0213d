//! The GUI's layers point one way (docs/architecture.md): every module of `src/ui` and the
//! modules it refers to (`use` declarations and paths in code: `crate::ui::...`, `super::...`,
//! a child module's name), checked for
//! - the layer rule: state refers to no other layer; resources to state; actions to state and
//!   resources; views to state and resources (never to actions); only `app` and the root `ui`
//!   module see everything;
//! - no cycle: no module refers, directly or through others, to a module that refers back.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Module path ("ui::views::canvas") -> its source.
type Sources = BTreeMap<String, String>;

fn read_modules(dir: &Path, module: &str, out: &mut Sources) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    entries.sort();
    for path in entries {
        let name = path
            .file_stem()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if path.is_dir() {
            read_modules(&path, &format!("{module}::{name}"), out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).expect("read a source file");
            let key = if name == "mod" {
                module.to_string()
            } else {
                format!("{module}::{name}")
            };
            out.insert(key, text);
        }
    }
}

/// The source without comments (`//` to the end of the line, outside string literals) and
/// without the contents of string and char literals.
fn code_only(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    let mut in_string = false;
    while let Some(c) = chars.next() {
        if in_string {
            match c {
                '\\' => {
                    chars.next();
                }
                '"' => {
                    in_string = false;
                    out.push('"');
                }
                '\n' => out.push('\n'),
                _ => {}
            }
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                out.push('"');
            }
            '/' if chars.peek() == Some(&'/') => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            // A char literal such as '"' or '{' (lifetimes have no closing quote nearby).
            '\'' => {
                let rest: String = chars.clone().take(3).collect();
                if let Some(escaped) = rest.strip_prefix('\\') {
                    if let Some(end) = escaped.find('\'') {
                        for _ in 0..end + 2 {
                            chars.next();
                        }
                    }
                    out.push(' ');
                } else if rest.chars().nth(1) == Some('\'') {
                    chars.next();
                    chars.next();
                    out.push(' ');
                } else {
                    out.push(c);
                }
            }
            _ => out.push(c),
        }
    }
    out
}

/// `a::{b, c::{d, e as f}}` -> `a::b`, `a::c::d`, `a::c::e` (`self` names the prefix itself).
fn expand_use_tree(tree: &str) -> Vec<String> {
    // Without aliases (`as name`) and whitespace.
    let mut cleaned = String::new();
    let mut words = tree.split_whitespace();
    while let Some(word) = words.next() {
        if word == "as" {
            let alias = words.next().unwrap_or("");
            cleaned.push_str(alias.trim_start_matches(|c: char| c.is_alphanumeric() || c == '_'));
        } else {
            cleaned.push_str(word);
        }
    }
    let tree = cleaned;
    fn expand(prefix: &str, tree: &str, out: &mut Vec<String>) {
        match tree.find('{') {
            None => {
                let full = if tree == "self" || tree.is_empty() {
                    prefix.trim_end_matches("::").to_string()
                } else {
                    format!("{prefix}{tree}")
                };
                out.push(full);
            }
            Some(open) => {
                let head = &tree[..open];
                let inner = &tree[open + 1..tree.len().saturating_sub(1)];
                let mut depth = 0;
                let mut start = 0;
                let mut parts = Vec::new();
                for (i, c) in inner.char_indices() {
                    match c {
                        '{' => depth += 1,
                        '}' => depth -= 1,
                        ',' if depth == 0 => {
                            parts.push(&inner[start..i]);
                            start = i + 1;
                        }
                        _ => {}
                    }
                }
                parts.push(&inner[start..]);
                for part in parts.into_iter().filter(|p| !p.is_empty()) {
                    expand(&format!("{prefix}{head}"), part, out);
                }
            }
        }
    }
    let mut out = Vec::new();
    expand("", &tree, &mut out);
    out
}

/// Every path in `code` that may name a module: `use` trees expanded, and `a::b::c` paths.
fn paths_in(code: &str) -> Vec<String> {
    let mut paths = Vec::new();
    // `use` declarations (possibly `pub use`), up to their `;`; the rest is code.
    let mut rest = code;
    let mut other = String::new();
    while let Some(i) = rest.find("use ") {
        let before = rest[..i].chars().next_back();
        let at_word = before.is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
        let after = &rest[i + 4..];
        match after.find(';').filter(|_| at_word) {
            Some(end) => {
                paths.extend(expand_use_tree(&after[..end]));
                other.push_str(&rest[..i]);
                rest = &after[end..];
            }
            None => {
                other.push_str(&rest[..i + 4]);
                rest = after;
            }
        }
    }
    other.push_str(rest);
    // Paths in code: identifiers joined by `::`.
    let bytes: Vec<char> = other.chars().collect();
    let mut i = 0;
    while i < bytes.len() {
        let starts_ident = (bytes[i].is_alphabetic() || bytes[i] == '_')
            && (i == 0 || !(bytes[i - 1].is_alphanumeric() || bytes[i - 1] == '_'))
            && !(i >= 2 && bytes[i - 1] == ':' && bytes[i - 2] == ':');
        if !starts_ident {
            i += 1;
            continue;
        }
        let mut path = String::new();
        let mut j = i;
        loop {
            let start = j;
            while j < bytes.len() && (bytes[j].is_alphanumeric() || bytes[j] == '_') {
                j += 1;
            }
            path.extend(&bytes[start..j]);
            if j + 2 < bytes.len()
                && bytes[j] == ':'
                && bytes[j + 1] == ':'
                && (bytes[j + 2].is_alphabetic() || bytes[j + 2] == '_')
            {
                path.push_str("::");
                j += 2;
            } else {
                break;
            }
        }
        if path.contains("::") {
            paths.push(path);
        }
        i = j.max(i + 1);
    }
    paths
}

fn parent(module: &str) -> &str {
    module.rsplit_once("::").map_or("", |(p, _)| p)
}

/// The module of `ui` that `path`, written in `module`, refers to (the longest known prefix).
fn resolve(path: &str, module: &str, modules: &BTreeSet<String>) -> Option<String> {
    let segments: Vec<&str> = path.split("::").collect();
    let (mut base, rest): (String, &[&str]) = match segments.as_slice() {
        ["crate", "ui", rest @ ..] => ("ui".to_string(), rest),
        ["self", rest @ ..] => (module.to_string(), rest),
        ["super", ..] => {
            let supers = segments.iter().take_while(|s| **s == "super").count();
            let mut base = module;
            for _ in 0..supers {
                base = parent(base);
            }
            (base.to_string(), &segments[supers..])
        }
        [first, ..] if modules.contains(&format!("{module}::{first}")) => {
            (module.to_string(), &segments[..])
        }
        _ => return None,
    };
    if base.is_empty() {
        return None;
    }
    let mut found = modules.contains(&base).then(|| base.clone());
    for segment in rest {
        base = format!("{base}::{segment}");
        if modules.contains(&base) {
            found = Some(base.clone());
        } else {
            break;
        }
    }
    found
}

/// `code` split into its own text and its inline modules (`mod tests { ... }`), each with the
/// module path `super` is taken from inside it.
fn inline_modules(code: &str, module: &str) -> Vec<(String, String)> {
    let mut parts = Vec::new();
    let mut own = String::new();
    let mut rest = code;
    while let Some(i) = rest.find("mod ") {
        let before = rest[..i].chars().next_back();
        let after = &rest[i + 4..];
        let name: String = after
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        let opens = after[name.len()..].trim_start().starts_with('{');
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') || name.is_empty() || !opens {
            own.push_str(&rest[..i + 4]);
            rest = after;
            continue;
        }
        own.push_str(&rest[..i]);
        let open = i + 4 + after.find('{').unwrap_or(0);
        let mut depth = 0;
        let mut end = rest.len();
        for (k, c) in rest[open..].char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = open + k + 1;
                        break;
                    }
                }
                _ => {}
            }
        }
        let inner = format!("{module}::{name}");
        parts.extend(inline_modules(
            &rest[open + 1..end.saturating_sub(1)],
            &inner,
        ));
        rest = &rest[end..];
    }
    own.push_str(rest);
    parts.insert(0, (module.to_string(), own));
    parts
}

/// Module -> the modules of `ui` it refers to (itself and its inline modules left out).
fn dependencies(sources: &Sources) -> BTreeMap<String, BTreeSet<String>> {
    let modules: BTreeSet<String> = sources.keys().cloned().collect();
    sources
        .iter()
        .map(|(module, text)| {
            let deps = inline_modules(&code_only(text), module)
                .iter()
                .flat_map(|(inner, code)| {
                    paths_in(code)
                        .into_iter()
                        .filter_map(|p| resolve(&p, inner, &modules))
                        .collect::<Vec<_>>()
                })
                .filter(|d| d != module)
                .collect();
            (module.clone(), deps)
        })
        .collect()
}

/// The layer of a module: "state", "resources", "actions", "views", or "app" (app.rs and the
/// root module, which see everything).
fn layer(module: &str) -> &str {
    match module.split("::").nth(1) {
        Some(l @ ("state" | "resources" | "actions" | "views")) => l,
        _ => "app",
    }
}

fn may_refer(from: &str, to: &str) -> bool {
    from == to
        || matches!(
            (from, to),
            ("app", _)
                | ("resources", "state")
                | ("actions", "state" | "resources")
                | ("views", "state" | "resources")
        )
}

/// Every breach of the rules, as sentences.
fn breaches(deps: &BTreeMap<String, BTreeSet<String>>) -> Vec<String> {
    let mut found = Vec::new();
    for (module, targets) in deps {
        for target in targets {
            if !may_refer(layer(module), layer(target)) {
                found.push(format!(
                    "{module} ({}) refers to {target} ({})",
                    layer(module),
                    layer(target)
                ));
            }
        }
    }
    // Cycles: depth-first search with the path on the stack.
    fn visit(
        module: &str,
        deps: &BTreeMap<String, BTreeSet<String>>,
        stack: &mut Vec<String>,
        done: &mut BTreeSet<String>,
        found: &mut Vec<String>,
    ) {
        if let Some(i) = stack.iter().position(|m| m == module) {
            let mut cycle = stack[i..].to_vec();
            cycle.push(module.to_string());
            found.push(format!("cycle: {}", cycle.join(" -> ")));
            return;
        }
        if done.contains(module) {
            return;
        }
        stack.push(module.to_string());
        for next in deps.get(module).into_iter().flatten() {
            visit(next, deps, stack, done, found);
        }
        stack.pop();
        done.insert(module.to_string());
    }
    let mut done = BTreeSet::new();
    for module in deps.keys() {
        visit(module, deps, &mut Vec::new(), &mut done, &mut found);
    }
    found
}

#[test]
fn the_ui_layers_point_one_way_and_no_module_imports_one_that_imports_it_back() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/ui");
    let mut sources = Sources::new();
    read_modules(&dir, "ui", &mut sources);
    for layer in [
        "ui::state",
        "ui::resources",
        "ui::actions",
        "ui::views",
        "ui::app",
    ] {
        assert!(sources.contains_key(layer), "no module {layer}");
    }
    let deps = dependencies(&sources);
    // The checker sees the references it must see.
    assert!(deps["ui::views"].contains("ui::views::canvas"));
    assert!(deps["ui::views::canvas"].contains("ui::state"));
    assert!(deps["ui::actions::training"].contains("ui::actions::files"));
    assert!(deps["ui::app"].contains("ui::actions"));
    let found = breaches(&deps);
    assert!(
        found.is_empty(),
        "the GUI's layers must point one way (docs/architecture.md):\n{}",
        found.join("\n")
    );
}

#[test]
fn the_checker_finds_wrong_way_references_and_cycles() {
    let sources: Sources = [
        ("ui", "mod state; mod views; mod actions;"),
        ("ui::state", "pub struct AppState;"),
        ("ui::actions", "pub fn apply() {}"),
        (
            "ui::views",
            "mod a; mod b;\npub use a::x;\nfn f() { crate::ui::actions::apply(); }",
        ),
        (
            "ui::views::a",
            "use super::b::{y, z as w};\n// super::nothing\nlet s = \"crate::ui::app\";",
        ),
        ("ui::views::b", "use super::{a::x, super::state::AppState};"),
    ]
    .into_iter()
    .map(|(m, t)| (m.to_string(), t.to_string()))
    .collect();
    let deps = dependencies(&sources);
    assert_eq!(
        deps["ui::views::a"],
        BTreeSet::from(["ui::views::b".to_string()])
    );
    assert_eq!(
        deps["ui::views::b"],
        BTreeSet::from(["ui::views::a".to_string(), "ui::state".to_string()])
    );
    let found = breaches(&deps);
    assert!(
        found
            .iter()
            .any(|f| f == "ui::views (views) refers to ui::actions (actions)"),
        "{found:?}"
    );
    assert!(
        found
            .iter()
            .any(|f| f.starts_with("cycle: ") && f.contains("ui::views::a -> ui::views::b")),
        "{found:?}"
    );
}
