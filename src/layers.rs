//! The layers of the crate and the test that keeps imports between modules
//! pointing down them, without circles.
//!
//! A module is a file of `src/` (`mod.rs` names its folder). Module `m`
//! imports `t` when its code names `crate::t…` (or `super::…` resolving to
//! `t`, or a `use` of a child). Two rules, checked over every file:
//!
//! 1. **Down the layers**: the top-level module of `t` is in the same layer
//!    as `m`'s or a lower one ([`LAYERS`]).
//! 2. **No circles**: the import graph has no cycle, not counting a
//!    module's imports of its own ancestors (a child may use what its parent
//!    defines; the parent declares and uses its children).
//!
//! `cargo test --lib layers` runs it; its failure message names the edge or
//! the cycle.

/// Top-level modules, lowest layer first; a module may import from its own
/// layer and those below it.
pub(crate) const LAYERS: &[&[&str]] = &[
    // Values and errors.
    &["error", "types"],
    // Arrays; text to AST.
    &["array", "syntax"],
    // The typed IR (shapes included); named inputs; cancel tokens.
    &["ir", "vars", "cancel"],
    // The thread pool; result allocation.
    &["threads", "alloc"],
    // Programs to values: the interpreter, the JIT, the GPU.
    &["backend"],
    // Options; one path from variables to results.
    &["options", "exec"],
    // The kernel cache; compile/evaluate and `Kernel`; an expression's outline.
    &["cache", "kernel", "outline"],
    // Users of the library inside the crate.
    &["internals", "cli"],
];

#[cfg(test)]
mod tests {
    use super::LAYERS;
    use std::collections::{BTreeMap, BTreeSet};
    use std::path::Path;

    /// Module path (`backend::jit::call`) of every file under `src/`.
    fn modules(dir: &Path, prefix: &[String], out: &mut BTreeMap<String, String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_stem().unwrap().to_string_lossy().to_string();
            if path.is_dir() {
                let mut p = prefix.to_vec();
                p.push(name);
                modules(&path, &p, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let mut p = prefix.to_vec();
                if name != "mod" && name != "lib" && name != "main" {
                    p.push(name);
                }
                if p.first().is_some_and(|s| s == "bin") {
                    continue;
                }
                out.insert(p.join("::"), std::fs::read_to_string(&path).unwrap());
            }
        }
    }

    /// The longest module that is a prefix of `path` (`a::b::Item`).
    fn resolve<'m>(mods: &'m BTreeMap<String, String>, path: &str) -> Option<&'m str> {
        let segs: Vec<&str> = path.split("::").collect();
        (1..=segs.len())
            .rev()
            .map(|k| segs[..k].join("::"))
            .find_map(|m| mods.get_key_value(&m).map(|(k, _)| k.as_str()))
    }

    fn ident(s: &str) -> usize {
        s.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
            .unwrap_or(s.len())
    }

    /// Paths after `crate::` (braced groups expanded one level) and
    /// `super::` in `src`, its test module included.
    fn imports(module: &str, src: &str) -> Vec<String> {
        let mut out = Vec::new();
        let parent = module.rsplit_once("::").map_or("", |(p, _)| p);
        for (kw, base) in [("crate::", ""), ("super::", parent)] {
            for (at, _) in src.match_indices(kw) {
                let before = src[..at].chars().next_back();
                if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':') {
                    continue;
                }
                let rest = &src[at + kw.len()..];
                let path = rest[..ident(rest)].trim_end_matches("::");
                let full = if base.is_empty() {
                    path.to_string()
                } else {
                    format!("{base}::{path}")
                };
                out.push(full.clone());
                if let Some(group) = rest[path.len()..].strip_prefix("::{") {
                    let inner = &group[..group.find('}').unwrap_or(0)];
                    for item in inner.split(',') {
                        let item = item.trim().split(' ').next().unwrap_or("");
                        if !item.is_empty() && item != "self" && !item.contains('{') {
                            out.push(format!("{full}::{item}"));
                        }
                    }
                }
            }
        }
        out
    }

    fn is_ancestor(a: &str, m: &str) -> bool {
        a.is_empty() || m.starts_with(&format!("{a}::"))
    }

    fn top(m: &str) -> &str {
        m.split("::").next().unwrap()
    }

    #[test]
    fn imports_go_down_the_layers_without_circles() {
        let mut mods = BTreeMap::new();
        modules(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            &[],
            &mut mods,
        );
        let rank = |m: &str| LAYERS.iter().position(|l| l.contains(&top(m)));
        let mut edges: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        let mut upward = Vec::new();
        for (m, src) in &mods {
            for path in imports(m, src) {
                let Some(t) = resolve(&mods, &path) else {
                    continue;
                };
                if t == m || t.is_empty() || is_ancestor(t, m) {
                    continue;
                }
                if !m.is_empty() && top(m) != top(t) {
                    let (rm, rt) = (rank(m), rank(t));
                    assert!(rm.is_some(), "module `{}` is in no layer of LAYERS", top(m));
                    assert!(rt.is_some(), "module `{}` is in no layer of LAYERS", top(t));
                    if rt > rm {
                        upward.push(format!("{m} -> {t}"));
                    }
                }
                edges.entry(m).or_default().insert(t);
            }
        }
        assert!(
            upward.is_empty(),
            "imports from a higher layer: {upward:#?}"
        );
        // A depth-first search for a back edge, reporting the cycle.
        fn visit<'a>(
            m: &'a str,
            edges: &BTreeMap<&'a str, BTreeSet<&'a str>>,
            state: &mut BTreeMap<&'a str, u8>,
            stack: &mut Vec<&'a str>,
        ) -> Option<Vec<&'a str>> {
            state.insert(m, 1);
            stack.push(m);
            for &t in edges.get(m).into_iter().flatten() {
                match state.get(t) {
                    Some(1) => {
                        let from = stack.iter().position(|&s| s == t).unwrap();
                        let mut cycle = stack[from..].to_vec();
                        cycle.push(t);
                        return Some(cycle);
                    }
                    Some(_) => {}
                    None => {
                        if let Some(c) = visit(t, edges, state, stack) {
                            return Some(c);
                        }
                    }
                }
            }
            stack.pop();
            state.insert(m, 2);
            None
        }
        let mut state = BTreeMap::new();
        for m in mods.keys() {
            if !state.contains_key(m.as_str()) {
                let cycle = visit(m, &edges, &mut state, &mut Vec::new());
                assert!(
                    cycle.is_none(),
                    "import circle: {}",
                    cycle.unwrap().join(" -> ")
                );
            }
        }
        // The check sees the imports it should: a few known edges.
        for (m, t) in [
            ("kernel", "exec"),
            ("exec", "backend"),
            ("ir::lower", "syntax::ast"),
        ] {
            assert!(edges[m].contains(t), "{m} -> {t} not found");
        }
    }
}
