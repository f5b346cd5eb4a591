//! The module structure holds: the runtime's layers import only downwards, and no crate
//! of the workspace has a cycle between its modules.
//!
//! It reads the sources, not the compiler's view: every `crate::`, `super::` and
//! `self::` path outside comments, strings and `#[cfg(test)]` items (plus `use` lines
//! that name a child module) is resolved to the file that defines the longest prefix of
//! it, and that file is an edge of the graph.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The runtime's layers, bottom first: a module may import from its own layer or below.
const RUNTIME_LAYERS: &[&[&str]] = &[
    &[
        "audio_duration",
        "catalogue",
        "clock",
        "labels",
        "limits",
        "foreign_errors",
        "sync",
        "thread",
        "trace",
    ],
    &["config"],
    &["store"],
    &["exposition", "recording"],
    &["serving"],
    &["install"],
    // The crate root and the module the macros' generated code names.
    &["", "macro_support"],
];

#[test]
fn runtime_layers_import_only_downwards() {
    let graph = Graph::of_crate(&workspace().join("conduit-metrics-runtime/src"));
    let layer_of = |module: &[String]| -> usize {
        let top = module.first().map_or("", String::as_str);
        RUNTIME_LAYERS
            .iter()
            .position(|layer| layer.contains(&top))
            .unwrap_or_else(|| {
                panic!("module `{top}` is in no layer: add it to RUNTIME_LAYERS in tests/architecture.rs")
            })
    };
    let mut upward = Vec::new();
    for (from, targets) in &graph.edges {
        for (to, path) in targets {
            let (from_layer, to_layer) =
                (layer_of(&graph.modules[from]), layer_of(&graph.modules[to]));
            if to_layer > from_layer {
                upward.push(format!(
                    "{} (layer {}) imports `{path}` from {} (layer {})",
                    from.display(),
                    from_layer + 1,
                    to.display(),
                    to_layer + 1
                ));
            }
        }
    }
    assert!(
        upward.is_empty(),
        "imports that point up the layers:\n{}",
        upward.join("\n")
    );
    // The check sees the real imports: the store is reached from recording.
    assert!(graph.edges.iter().any(|(from, targets)| {
        from.starts_with("recording") && targets.keys().any(|to| to.starts_with("store"))
    }));
}

#[test]
fn no_crate_of_the_workspace_has_a_module_cycle() {
    for dir in [
        "conduit-metrics-runtime/src",
        "conduit-metrics-macros/src",
        "conduit-metrics-cli/src",
        "examples/audio-gateway/src",
    ] {
        let graph = Graph::of_crate(&workspace().join(dir));
        assert!(
            graph.edges.values().map(BTreeMap::len).sum::<usize>() > 0,
            "{dir}: no imports found; is the scanner broken?"
        );
        if let Some(cycle) = graph.find_cycle() {
            let shown: Vec<_> = cycle.iter().map(|f| f.display().to_string()).collect();
            panic!("{dir}: module cycle: {}", shown.join(" -> "));
        }
    }
}

#[test]
fn the_scanner_finds_cycles_and_ignores_comments_and_strings() {
    let dir = tempfile::tempdir().unwrap();
    let write = |path: &str, text: &str| {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write("lib.rs", "mod a;\nmod b;\nmod c;\n");
    write(
        "a.rs",
        "use crate::b::{self, Thing};\n// crate::c::X in a comment\nconst S: &str = \"crate::c::Y\";\n",
    );
    write("b.rs", "pub fn f() { crate::a::g(); }\n");
    write(
        "c.rs",
        "use super::a;\n#[cfg(test)]\nmod tests { use crate::b::f; fn g() { if true {} } }\nfn h() -> crate::lib_item::X {}\n#[cfg(all(test, unix))]\nmod more { use crate::b::g; }\n",
    );
    let graph = Graph::of_crate(dir.path());
    let cycle = graph.find_cycle().expect("a <-> b is a cycle");
    assert_eq!(cycle.len(), 3, "{cycle:?}");
    let targets_of =
        |file: &str| -> Vec<PathBuf> { graph.edges[Path::new(file)].keys().cloned().collect() };
    assert_eq!(targets_of("a.rs"), [PathBuf::from("b.rs")]);
    // `crate::lib_item` is defined in lib.rs; the test module's import is not counted.
    assert_eq!(
        targets_of("c.rs"),
        [PathBuf::from("a.rs"), PathBuf::from("lib.rs")]
    );
}

/// Longest a runtime source file may be, and a function of `exposition/`: a family
/// added there touches one short function.
const MAX_RUNTIME_FILE_LINES: usize = 500;
const MAX_EXPOSITION_FUNCTION_LINES: usize = 80;

#[test]
fn runtime_files_and_exposition_functions_stay_short() {
    let src = workspace().join("conduit-metrics-runtime/src");
    let mut files = Vec::new();
    collect_rs_files(&src, &mut files);
    let mut long = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let lines = text.lines().count();
        if lines > MAX_RUNTIME_FILE_LINES {
            long.push(format!("{} has {lines} lines", file.display()));
        }
        if file.strip_prefix(&src).unwrap().starts_with("exposition") {
            for (name, lines) in function_lengths(&code_of(&text)) {
                if lines > MAX_EXPOSITION_FUNCTION_LINES {
                    long.push(format!("{}: fn {name} has {lines} lines", file.display()));
                }
            }
        }
    }
    assert!(long.is_empty(), "too long:\n{}", long.join("\n"));
}

#[test]
fn function_lengths_are_measured_from_fn_to_closing_brace() {
    let code = "fn short() {\n}\ntrait T { fn declared(&self); }\nfn nested() {\n    if x { y(); }\n    z();\n}\n";
    assert_eq!(
        function_lengths(code),
        [("short".to_owned(), 2), ("nested".to_owned(), 4)]
    );
}

/// The runtime denies unsafe code; the two FFI calls to libc are allowed one by one, each
/// with its safety comment, and nothing else is unsafe.
#[test]
fn unsafe_code_is_the_two_ffi_calls_each_allowed_with_its_reason() {
    let src = workspace().join("conduit-metrics-runtime/src");
    let lib = std::fs::read_to_string(src.join("lib.rs")).unwrap();
    assert!(lib.contains("#![deny(unsafe_code)]"));
    let mut files = Vec::new();
    collect_rs_files(&src, &mut files);
    let mut found = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let code = code_of(&text);
        let code_lines: Vec<&str> = code.lines().collect();
        let text_lines: Vec<&str> = text.lines().collect();
        for (number, line) in code_lines.iter().enumerate() {
            if !tokenize(line).iter().any(|token| token == "unsafe") {
                continue;
            }
            let before = &text_lines[number.saturating_sub(4)..number];
            let allowed = before.iter().any(|l| l.trim() == "#[allow(unsafe_code)]");
            let reason = before
                .iter()
                .any(|l| l.trim_start().starts_with("// SAFETY:"));
            let relative = file.strip_prefix(&src).unwrap().display().to_string();
            found.push((
                relative,
                text_lines[number].trim().to_owned(),
                allowed && reason,
            ));
        }
    }
    found.sort();
    let places: Vec<&str> = found.iter().map(|(file, _, _)| file.as_str()).collect();
    assert_eq!(
        places,
        ["serving/push.rs", "store/stripes.rs"],
        "{found:#?}"
    );
    for (file, line, ok) in &found {
        assert!(
            ok,
            "{file}: `{line}` needs #[allow(unsafe_code)] and a SAFETY comment"
        );
        assert!(
            line.contains("libc::"),
            "{file}: `{line}` is not an FFI call"
        );
    }
}

/// `(name, lines)` of each function with a body in `code` (comments and strings already
/// blanked), from its `fn` line to its closing brace.
fn function_lengths(code: &str) -> Vec<(String, usize)> {
    let chars: Vec<char> = code.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i + 2 < chars.len() {
        let is_fn = chars[i] == 'f'
            && chars[i + 1] == 'n'
            && chars[i + 2].is_whitespace()
            && (i == 0 || !ident_before(&chars, i));
        if !is_fn {
            i += 1;
            continue;
        }
        let start = i;
        let name: String = chars[i + 2..]
            .iter()
            .skip_while(|c| c.is_whitespace())
            .take_while(|c| c.is_alphanumeric() || **c == '_')
            .collect();
        // The body starts at the first `{` before any `;` (a declaration has none).
        let mut j = i + 2;
        while j < chars.len() && chars[j] != '{' && chars[j] != ';' {
            j += 1;
        }
        if j >= chars.len() || chars[j] == ';' {
            i = j + 1;
            continue;
        }
        let mut depth = 0usize;
        while j < chars.len() {
            match chars[j] {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                _ => {}
            }
            j += 1;
        }
        let lines = chars[start..j.min(chars.len())]
            .iter()
            .filter(|c| **c == '\n')
            .count()
            + 1;
        out.push((name, lines));
        // Nested functions are part of their parent's length; go on after the body.
        i = j + 1;
    }
    out
}

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Files of one crate and the files each one imports from.
struct Graph {
    /// File (relative to the crate's `src`) → module path (`["store", "cells"]`).
    modules: BTreeMap<PathBuf, Vec<String>>,
    /// File → imported file → the first path seen that imports it.
    edges: BTreeMap<PathBuf, BTreeMap<PathBuf, String>>,
}

impl Graph {
    fn of_crate(src: &Path) -> Graph {
        let mut files = Vec::new();
        collect_rs_files(src, &mut files);
        let mut modules = BTreeMap::new();
        for file in &files {
            let relative = file.strip_prefix(src).unwrap().to_path_buf();
            modules.insert(relative.clone(), module_path(&relative));
        }
        let by_module: BTreeMap<Vec<String>, PathBuf> = modules
            .iter()
            .map(|(file, module)| (module.clone(), file.clone()))
            .collect();
        let mut edges = BTreeMap::new();
        for (file, module) in &modules {
            let code = code_of(&std::fs::read_to_string(src.join(file)).unwrap());
            let mut targets = BTreeMap::new();
            for path in paths_in(&code) {
                let Some(absolute) = absolute(module, &path, &by_module) else {
                    continue;
                };
                // The file defining the longest prefix that is a module.
                let target = (0..=absolute.len())
                    .rev()
                    .find_map(|n| by_module.get(&absolute[..n]))
                    .expect("the crate root is a module");
                if target != file {
                    targets
                        .entry(target.clone())
                        .or_insert_with(|| path.join("::"));
                }
            }
            edges.insert(file.clone(), targets);
        }
        Graph { modules, edges }
    }

    /// A cycle of files (first file repeated at the end), if there is one.
    fn find_cycle(&self) -> Option<Vec<PathBuf>> {
        #[derive(Clone, Copy, PartialEq)]
        enum Mark {
            Open,
            Done,
        }
        fn visit(
            graph: &Graph,
            file: &PathBuf,
            marks: &mut BTreeMap<PathBuf, Mark>,
            stack: &mut Vec<PathBuf>,
        ) -> Option<Vec<PathBuf>> {
            match marks.get(file) {
                Some(Mark::Done) => return None,
                Some(Mark::Open) => {
                    let start = stack.iter().position(|f| f == file).unwrap_or(0);
                    let mut cycle = stack[start..].to_vec();
                    cycle.push(file.clone());
                    return Some(cycle);
                }
                None => {}
            }
            marks.insert(file.clone(), Mark::Open);
            stack.push(file.clone());
            for target in graph.edges.get(file).into_iter().flat_map(BTreeMap::keys) {
                if let Some(cycle) = visit(graph, target, marks, stack) {
                    return Some(cycle);
                }
            }
            stack.pop();
            marks.insert(file.clone(), Mark::Done);
            None
        }
        let mut marks = BTreeMap::new();
        self.edges
            .keys()
            .find_map(|file| visit(self, file, &mut marks, &mut Vec::new()))
    }
}

fn collect_rs_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect_rs_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `lib.rs` → `[]`, `a.rs` and `a/mod.rs` → `[a]`, `a/b.rs` → `[a, b]`.
fn module_path(relative: &Path) -> Vec<String> {
    let mut parts: Vec<String> = relative
        .with_extension("")
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts
}

/// Resolves `crate::`, `super::` and `self::` paths, and paths whose first segment is a
/// child module of `module` (from `use` lines), to absolute module paths.
fn absolute(
    module: &[String],
    path: &[String],
    modules: &BTreeMap<Vec<String>, PathBuf>,
) -> Option<Vec<String>> {
    let mut base: Vec<String>;
    let mut rest = path;
    match path.first().map(String::as_str) {
        Some("crate") => {
            base = Vec::new();
            rest = &path[1..];
        }
        Some("self") => {
            base = module.to_vec();
            rest = &path[1..];
        }
        Some("super") => {
            base = module.to_vec();
            while rest.first().map(String::as_str) == Some("super") {
                base.pop()?;
                rest = &rest[1..];
            }
        }
        Some(first) => {
            let mut child = module.to_vec();
            child.push(first.to_owned());
            if !modules.contains_key(&child) {
                return None;
            }
            base = module.to_vec();
        }
        None => return None,
    }
    base.extend(rest.iter().filter(|s| *s != "self" && *s != "*").cloned());
    Some(base)
}

/// The code of a file with comments, string and char literals blanked out, and without
/// its `#[cfg(test)]` items.
fn code_of(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            out.push(' ');
        } else if c == 'r' && (next == Some('"') || next == Some('#')) && !ident_before(&chars, i) {
            let mut j = i + 1;
            let mut hashes = 0;
            while chars.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if chars.get(j) != Some(&'"') {
                out.push(c);
                i += 1;
                continue;
            }
            j += 1;
            loop {
                if j >= chars.len() {
                    break;
                }
                if chars[j] == '"' && (0..hashes).all(|h| chars.get(j + 1 + h) == Some(&'#')) {
                    j += 1 + hashes;
                    break;
                }
                j += 1;
            }
            out.push_str("\"\"");
            i = j;
        } else if c == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    i += 1;
                }
                i += 1;
            }
            i += 1;
            out.push_str("\"\"");
        } else if c == '\'' && (next == Some('\\') || chars.get(i + 2) == Some(&'\'')) {
            // A char literal ('x', '\n', '\''); a lifetime has no closing quote.
            i += 1;
            if chars.get(i) == Some(&'\\') {
                i += 2;
            }
            while i < chars.len() && chars[i] != '\'' {
                i += 1;
            }
            i += 1;
            out.push_str("' '");
        } else {
            out.push(c);
            i += 1;
        }
    }
    without_test_items(&out)
}

/// `code` without the items under a `#[cfg(..)]` that needs `test` (`#[cfg(test)]`,
/// `#[cfg(all(test, feature = ".."))]`): test modules import their parent.
fn without_test_items(code: &str) -> String {
    let mut out = String::with_capacity(code.len());
    let mut rest = code;
    while let Some(start) = find_test_cfg(rest) {
        out.push_str(&rest[..start]);
        let item = &rest[start..];
        // The item ends at `;` if that comes before any `{`, else at the matching `}`.
        let end = match (item.find(';'), item.find('{')) {
            (Some(semi), Some(open)) if semi < open => semi + 1,
            (_, Some(open)) => {
                let mut depth = 0usize;
                let mut end = item.len();
                for (i, c) in item[open..].char_indices() {
                    match c {
                        '{' => depth += 1,
                        '}' => {
                            depth -= 1;
                            if depth == 0 {
                                end = open + i + 1;
                                break;
                            }
                        }
                        _ => {}
                    }
                }
                end
            }
            (Some(semi), None) => semi + 1,
            (None, None) => item.len(),
        };
        // Its lines stay, blank, so line numbers still match the file's.
        out.extend(item[..end].chars().filter(|c| *c == '\n'));
        rest = &item[end..];
    }
    out.push_str(rest);
    out
}

/// Where the next `#[cfg(..)]` whose predicate needs `test` starts.
fn find_test_cfg(code: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(found) = code[from..].find("#[cfg(") {
        let start = from + found;
        let end = code[start..].find(")]").map_or(code.len(), |e| start + e);
        let predicate = &code[start + "#[cfg(".len()..end];
        let needs_test =
            tokenize(predicate).iter().any(|t| t == "test") && !predicate.contains("not(test");
        if needs_test {
            return Some(start);
        }
        from = end;
    }
    None
}

fn ident_before(chars: &[char], i: usize) -> bool {
    i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_')
}

/// Every path starting with `crate`, `super` or `self`, and every `use` path, with
/// `{..}` groups expanded.
fn paths_in(code: &str) -> Vec<Vec<String>> {
    let tokens = tokenize(code);
    let mut paths = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let token = tokens[i].as_str();
        let starts_path = matches!(token, "crate" | "super" | "self")
            && tokens.get(i + 1).map(String::as_str) == Some("::")
            && (i == 0 || tokens[i - 1] != "::");
        let is_use = token == "use" && tokens.get(i + 1).is_some_and(|t| is_ident(t));
        if starts_path || is_use {
            let start = if is_use { i + 1 } else { i };
            let (tree, end) = use_tree(&tokens, start, Vec::new());
            paths.extend(tree);
            i = end.max(i + 1);
        } else {
            i += 1;
        }
    }
    paths
}

/// Parses `a::b::{c, d::e}` from `tokens[i]`, returning the full paths and the index
/// after the tree.
fn use_tree(tokens: &[String], mut i: usize, prefix: Vec<String>) -> (Vec<Vec<String>>, usize) {
    let mut path = prefix;
    loop {
        match tokens.get(i).map(String::as_str) {
            Some("{") => {
                let mut paths = Vec::new();
                i += 1;
                loop {
                    match tokens.get(i).map(String::as_str) {
                        Some("}") => return (paths, i + 1),
                        Some(",") => i += 1,
                        None => return (paths, i),
                        Some(_) => {
                            let (inner, end) = use_tree(tokens, i, path.clone());
                            paths.extend(inner);
                            i = end.max(i + 1);
                        }
                    }
                }
            }
            Some(token) if is_ident(token) || token == "*" => {
                path.push(token.to_owned());
                i += 1;
                if tokens.get(i).map(String::as_str) == Some("::") {
                    i += 1;
                } else {
                    // `as alias` ends the path.
                    if tokens.get(i).map(String::as_str) == Some("as") {
                        i += 2;
                    }
                    return (vec![path], i);
                }
            }
            _ => return (vec![path], i),
        }
    }
}

fn is_ident(token: &str) -> bool {
    token
        .chars()
        .next()
        .is_some_and(|c| c.is_alphabetic() || c == '_')
        && token.chars().all(|c| c.is_alphanumeric() || c == '_')
}

fn tokenize(code: &str) -> Vec<String> {
    let chars: Vec<char> = code.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_alphanumeric() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            tokens.push(chars[start..i].iter().collect());
        } else if c == ':' && chars.get(i + 1) == Some(&':') {
            tokens.push("::".to_owned());
            i += 2;
        } else if c.is_whitespace() {
            i += 1;
        } else {
            tokens.push(c.to_string());
            i += 1;
        }
    }
    tokens
}
