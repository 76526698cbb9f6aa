//! The layer checker: reads a crate's module tree from its `lib.rs` (following `mod` lines, as
//! rustc does, and leaving out `#[cfg(test)]` modules and items), collects every path that
//! names another module (`use crate::…`, `use super::…`, `crate::x::f()` in code), and reports
//! each import that points up or sideways between top-level modules, each import outside an
//! allow-list, and each circle between the submodules of one top-level module.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use syn::visit::Visit;

/// A module by its path from the crate root, e.g. `["office", "routes"]`.
pub type ModulePath = Vec<String>;

/// The rules a crate is checked against.
pub struct Rules<'a> {
    /// Top-level modules, lowest layer first; a module may import only from layers below its own.
    pub layers: &'a [&'a [&'a str]],
    /// Modules that may import only the listed ones, whatever their layer allows.
    pub only: &'a [(&'a str, &'a [&'a str])],
}

/// One import that breaks the rules, as a person would read it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Violation(pub String);

/// An import from one module to another, found in `file`.
#[derive(Debug, Clone)]
struct Import {
    from: ModulePath,
    to: ModulePath,
    file: PathBuf,
}

/// Checks the crate whose `lib.rs` is `root`; an empty answer means it keeps every rule.
pub fn check(root: &Path, rules: &Rules) -> Result<Vec<Violation>, String> {
    let tree = read_tree(root)?;
    let mut violations = BTreeSet::new();
    let layer_of = |module: &str| {
        rules
            .layers
            .iter()
            .position(|layer| layer.contains(&module))
    };
    for top in tree.keys().filter_map(|m| m.first()) {
        if layer_of(top).is_none() {
            violations.insert(Violation(format!(
                "module `{top}` has no place in the layers"
            )));
        }
    }
    let imports = imports(&tree);
    for import in &imports {
        let (from, to) = (&import.from[0], &import.to[0]);
        if from == to {
            continue;
        }
        let src = root.parent().unwrap_or(Path::new(""));
        let file = import
            .file
            .strip_prefix(src)
            .unwrap_or(&import.file)
            .display();
        if let (Some(a), Some(b)) = (layer_of(from), layer_of(to))
            && b >= a
        {
            let how = if a == b {
                "its own layer"
            } else {
                "a layer above"
            };
            violations.insert(Violation(format!(
                "`{from}` imports `{to}` from {how} ({file})"
            )));
        }
        if let Some((_, allowed)) = rules.only.iter().find(|(m, _)| m == from)
            && !allowed.contains(&to.as_str())
        {
            violations.insert(Violation(format!(
                "`{from}` may use only {allowed:?} but imports `{to}` ({file})"
            )));
        }
    }
    for circle in sibling_circles(&tree, &imports) {
        violations.insert(Violation(format!(
            "submodules import each other in a circle: {}",
            circle.join(" -> ")
        )));
    }
    Ok(violations.into_iter().collect())
}

/// Every module of the crate with the file that holds it.
type Tree = BTreeMap<ModulePath, (PathBuf, syn::File)>;

fn read_tree(root: &Path) -> Result<Tree, String> {
    let mut tree = Tree::new();
    let mut pending = vec![(Vec::new(), root.to_path_buf())];
    while let Some((module, file)) = pending.pop() {
        let text = std::fs::read_to_string(&file)
            .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
        let parsed =
            syn::parse_file(&text).map_err(|e| format!("cannot parse {}: {e}", file.display()))?;
        let folder = module_folder(&file, module.is_empty());
        for item in &parsed.items {
            if let syn::Item::Mod(declared) = item
                && declared.content.is_none()
                && !is_test_only(&declared.attrs)
            {
                let name = declared.ident.to_string();
                let flat = folder.join(format!("{name}.rs"));
                let nested = folder.join(&name).join("mod.rs");
                let found = if flat.exists() { flat } else { nested };
                let mut child = module.clone();
                child.push(name);
                pending.push((child, found));
            }
        }
        if !module.is_empty() {
            tree.insert(module, (file, parsed));
        }
    }
    Ok(tree)
}

/// Where the files of a module's submodules are: beside `lib.rs` or `mod.rs`, else in the
/// folder named after the file.
fn module_folder(file: &Path, is_root: bool) -> PathBuf {
    let parent = file.parent().unwrap_or(Path::new("")).to_path_buf();
    if is_root || file.file_name().is_some_and(|n| n == "mod.rs") {
        parent
    } else {
        parent.join(file.file_stem().unwrap_or_default())
    }
}

/// `#[cfg(test)]`: code that is not part of the program.
fn is_test_only(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|attr| {
        attr.path().is_ident("cfg")
            && attr
                .parse_args::<syn::Meta>()
                .is_ok_and(|meta| meta.path().is_ident("test"))
    })
}

/// Collects the module paths a file names, leaving out test-only items.
struct PathCollector<'a> {
    module: &'a ModulePath,
    found: Vec<ModulePath>,
}

impl PathCollector<'_> {
    /// The module a path starting with these segments names, if it names one inside the crate.
    fn resolve(&self, segments: &[String]) -> Option<ModulePath> {
        let mut resolved = match segments.first().map(String::as_str) {
            Some("crate") => Vec::new(),
            Some("super") | Some("self") => self.module.clone(),
            _ => return None,
        };
        for segment in segments {
            match segment.as_str() {
                "crate" => {}
                "self" => {}
                "super" => {
                    resolved.pop();
                }
                name => resolved.push(name.to_string()),
            }
        }
        (!resolved.is_empty()).then_some(resolved)
    }

    fn use_tree(&mut self, prefix: &mut Vec<String>, tree: &syn::UseTree) {
        match tree {
            syn::UseTree::Path(path) => {
                prefix.push(path.ident.to_string());
                self.use_tree(prefix, &path.tree);
                prefix.pop();
            }
            syn::UseTree::Name(name) => self.found_path(prefix, Some(name.ident.to_string())),
            syn::UseTree::Rename(rename) => self.found_path(prefix, Some(rename.ident.to_string())),
            syn::UseTree::Glob(_) => self.found_path(prefix, None),
            syn::UseTree::Group(group) => {
                for tree in &group.items {
                    self.use_tree(prefix, tree);
                }
            }
        }
    }

    fn found_path(&mut self, prefix: &[String], last: Option<String>) {
        let mut segments = prefix.to_vec();
        segments.extend(last.filter(|name| name != "self"));
        if let Some(module) = self.resolve(&segments) {
            self.found.push(module);
        }
    }
}

impl<'ast> Visit<'ast> for PathCollector<'_> {
    fn visit_item(&mut self, item: &'ast syn::Item) {
        let attrs = match item {
            syn::Item::Fn(f) => &f.attrs,
            syn::Item::Mod(m) => &m.attrs,
            syn::Item::Impl(i) => &i.attrs,
            syn::Item::Use(u) => &u.attrs,
            syn::Item::Const(c) => &c.attrs,
            syn::Item::Static(s) => &s.attrs,
            syn::Item::Struct(s) => &s.attrs,
            syn::Item::Enum(e) => &e.attrs,
            _ => return syn::visit::visit_item(self, item),
        };
        if !is_test_only(attrs) {
            syn::visit::visit_item(self, item);
        }
    }

    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        self.use_tree(&mut Vec::new(), &item.tree);
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        self.found_path(&segments, None);
        syn::visit::visit_path(self, path);
    }
}

/// Every import between two different modules, trimmed to the deepest module of the tree that
/// the path names (a path to an item names the module that holds it).
fn imports(tree: &Tree) -> Vec<Import> {
    let mut all = Vec::new();
    for (module, (file, parsed)) in tree {
        let mut collector = PathCollector {
            module,
            found: Vec::new(),
        };
        collector.visit_file(parsed);
        for mut to in collector.found {
            while !to.is_empty() && !tree.contains_key(&to) {
                to.pop();
            }
            if !to.is_empty() && &to != module {
                all.push(Import {
                    from: module.clone(),
                    to,
                    file: file.clone(),
                });
            }
        }
    }
    all
}

/// Circles among the direct submodules of each top-level module (`office::routes` ->
/// `office::server` -> `office::routes`), each named once.
fn sibling_circles(tree: &Tree, imports: &[Import]) -> Vec<Vec<String>> {
    let mut edges: BTreeMap<ModulePath, BTreeSet<ModulePath>> = BTreeMap::new();
    for import in imports {
        let (from, to) = (&import.from, &import.to);
        if from.len() >= 2 && to.len() >= 2 && from[0] == to[0] && from[1] != to[1] {
            edges
                .entry(from[..2].to_vec())
                .or_default()
                .insert(to[..2].to_vec());
        }
    }
    let mut circles = BTreeSet::new();
    for start in tree.keys().filter(|m| m.len() == 2) {
        let mut trail = vec![start.clone()];
        find_circles(start, &edges, &mut trail, &mut circles);
    }
    circles.into_iter().collect()
}

fn find_circles(
    start: &ModulePath,
    edges: &BTreeMap<ModulePath, BTreeSet<ModulePath>>,
    trail: &mut Vec<ModulePath>,
    circles: &mut BTreeSet<Vec<String>>,
) {
    let Some(last) = trail.last().cloned() else {
        return;
    };
    for next in edges.get(&last).into_iter().flatten() {
        if next == start {
            // Named from its smallest member, so a circle found from each of its members is
            // reported once.
            let names: Vec<String> = trail.iter().map(|m| m.join("::")).collect();
            let smallest = names
                .iter()
                .enumerate()
                .min_by(|a, b| a.1.cmp(b.1))
                .map_or(0, |(i, _)| i);
            let mut circle: Vec<String> = names[smallest..]
                .iter()
                .chain(&names[..smallest])
                .cloned()
                .collect();
            circle.push(circle[0].clone());
            circles.insert(circle);
        } else if !trail.contains(next) {
            trail.push(next.clone());
            find_circles(start, edges, trail, circles);
            trail.pop();
        }
    }
}
