//! The README and the guide hold together: every relative link and anchor resolves,
//! every chapter of `docs/` is compiled as a doctest, the runtime's README says what the
//! README says, and each published crate carries the workspace's licence files.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every Markdown page users read: the READMEs, the changelog and the guide.
fn pages() -> Vec<PathBuf> {
    let root = workspace();
    let mut pages: Vec<PathBuf> = [
        "README.md",
        "CHANGELOG.md",
        "conduit-metrics-runtime/README.md",
        "conduit-metrics-macros/README.md",
    ]
    .iter()
    .map(|page| root.join(page))
    .collect();
    pages.extend(chapters());
    pages
}

/// The chapters of the guide: every `.md` file of `docs/`.
fn chapters() -> Vec<PathBuf> {
    let mut chapters: Vec<PathBuf> = std::fs::read_dir(workspace().join("docs"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "md"))
        .collect();
    chapters.sort();
    chapters
}

#[test]
fn every_relative_link_and_anchor_resolves() {
    let mut broken = Vec::new();
    for page in pages() {
        let text = std::fs::read_to_string(&page).unwrap();
        broken.extend(broken_links(&page, &text, |path| {
            std::fs::read_to_string(path).ok()
        }));
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn the_link_check_finds_a_missing_file_and_a_missing_anchor() {
    let pages: BTreeMap<PathBuf, &str> = BTreeMap::from([
        (PathBuf::from("/d/a.md"), "# A\n\n## Two words, here\n"),
        (PathBuf::from("/d/b.md"), "# B\n"),
    ]);
    let read = |path: &Path| pages.get(path).map(|text| text.to_string());
    let text = "\
# A

[fine](b.md) [fine too](a.md#two-words-here) [self](#a) [web](https://example.com/x)
[gone](c.md) [no such anchor](b.md#nowhere) [none here](#nope)
`[in code](nowhere.md)`
```text
[in a fence](nowhere.md)
```
";
    let broken = broken_links(Path::new("/d/a.md"), text, read);
    assert_eq!(broken.len(), 3, "{broken:#?}");
    assert!(broken[0].contains("c.md") && broken[0].contains("no such file"));
    assert!(broken[1].contains("b.md#nowhere") && broken[1].contains("no heading"));
    assert!(broken[2].contains("#nope"));
    // The same page with its links mended passes.
    let mended = "[fine](b.md) [fine too](a.md#two-words-here)\n";
    assert!(broken_links(Path::new("/d/a.md"), mended, read).is_empty());
}

#[test]
fn github_anchors_of_headings() {
    for (heading, anchor) in [
        ("Quick start", "quick-start"),
        (
            "`#[audio_metric]`: instrument a provider client",
            "audio_metric-instrument-a-provider-client",
        ),
        (
            "Health probes don't multiply",
            "health-probes-dont-multiply",
        ),
        (
            "Prometheus, Grafana and alerts",
            "prometheus-grafana-and-alerts",
        ),
        (
            "OpenMetrics and exemplars: from a slow bucket to its trace",
            "openmetrics-and-exemplars-from-a-slow-bucket-to-its-trace",
        ),
    ] {
        assert_eq!(slug(heading), anchor);
    }
}

/// A chapter that is not included in `src/lib.rs` would have its examples go unchecked.
#[test]
fn every_chapter_is_compiled_as_a_doctest() {
    let lib = std::fs::read_to_string(workspace().join("src/lib.rs")).unwrap();
    let missing: Vec<String> = chapters()
        .iter()
        .map(|chapter| {
            let name = chapter.file_name().unwrap().to_string_lossy();
            format!("include_str!(\"../docs/{name}\")")
        })
        .filter(|include| !lib.contains(include.as_str()))
        .collect();
    assert!(missing.is_empty(), "src/lib.rs lacks {missing:?}");
    assert!(lib.contains("include_str!(\"../README.md\")"));
    assert!(lib.contains("include_str!(\"../conduit-metrics-runtime/README.md\")"));
}

/// The runtime's README (its crates.io page and its rustdoc front page) opens with the
/// README's words and the same quick start.
#[test]
fn the_runtime_readme_says_what_the_readme_says() {
    let root = std::fs::read_to_string(workspace().join("README.md")).unwrap();
    let crate_readme =
        std::fs::read_to_string(workspace().join("conduit-metrics-runtime/README.md")).unwrap();
    let lib =
        std::fs::read_to_string(workspace().join("conduit-metrics-runtime/src/lib.rs")).unwrap();
    assert!(lib.starts_with("#![doc = include_str!(\"../README.md\")]"));
    let first_paragraph = root.split("\n\n").nth(1).unwrap();
    assert!(crate_readme.contains(first_paragraph));
    let quick_start = section(&root, "## Quick start");
    assert!(quick_start.contains("#[audio_metric("));
    assert_eq!(section(&crate_readme, "## Quick start"), quick_start);
    // Its list of what you get names the same things, without links into the repository.
    for item in section(&root, "## What you get")
        .lines()
        .filter(|l| l.starts_with("- **"))
    {
        let lead = item.split("**").nth(1).unwrap();
        assert!(crate_readme.contains(lead), "{lead}");
    }
}

#[test]
fn published_crates_carry_the_licence_files() {
    let root = workspace();
    for krate in ["conduit-metrics-runtime", "conduit-metrics-macros"] {
        for licence in ["LICENSE-MIT", "LICENSE-APACHE"] {
            let theirs = std::fs::read_to_string(root.join(krate).join(licence))
                .unwrap_or_else(|_| panic!("{krate} has no {licence}"));
            let ours = std::fs::read_to_string(root.join(licence)).unwrap();
            assert_eq!(
                theirs, ours,
                "{krate}/{licence} differs from the workspace's"
            );
        }
    }
}

/// The text of a page from `heading` to the next heading of the same level.
fn section<'a>(page: &'a str, heading: &str) -> &'a str {
    let start = page
        .find(&format!("{heading}\n"))
        .unwrap_or_else(|| panic!("no {heading}"));
    let body = &page[start + heading.len()..];
    let end = body.find("\n## ").map_or(body.len(), |end| end + 1);
    &page[start..start + heading.len() + end]
}

/// Every relative link of `text` (the page at `page`) whose file or anchor does not exist:
/// one line each, naming the page and the link. Links to the web are not followed; links
/// in code (spans and fences) are not links.
fn broken_links(page: &Path, text: &str, read: impl Fn(&Path) -> Option<String>) -> Vec<String> {
    let dir = page.parent().unwrap();
    let mut broken = Vec::new();
    for target in link_targets(text) {
        if target.contains("://") || target.starts_with("mailto:") {
            continue;
        }
        let (file, anchor) = match target.split_once('#') {
            Some((file, anchor)) => (file, Some(anchor)),
            None => (target.as_str(), None),
        };
        let path = if file.is_empty() {
            page.to_path_buf()
        } else {
            normalize(&dir.join(file))
        };
        let linked = if file.is_empty() {
            Some(text.to_owned())
        } else {
            read(&path)
        };
        let Some(linked) = linked else {
            if !path.is_dir() {
                broken.push(format!(
                    "{}: ({target}): no such file {}",
                    page.display(),
                    path.display()
                ));
            }
            continue;
        };
        if let Some(anchor) = anchor {
            if !anchors(&linked).iter().any(|known| known == anchor) {
                broken.push(format!(
                    "{}: ({target}): no heading with anchor #{anchor}",
                    page.display()
                ));
            }
        }
    }
    broken
}

/// `a/./b/../c` → `a/c`, without touching the file system.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// The targets of the inline links `[text](target)` outside code.
fn link_targets(text: &str) -> Vec<String> {
    let mut targets = Vec::new();
    for line in prose_lines(text) {
        let line = without_code_spans(line);
        let mut rest = line.as_str();
        while let Some(start) = rest.find("](") {
            let after = &rest[start + 2..];
            let Some(end) = after.find(')') else { break };
            let target = after[..end].split_whitespace().next().unwrap_or("");
            if !target.is_empty() {
                targets.push(target.to_owned());
            }
            rest = &after[end..];
        }
    }
    targets
}

/// The lines of a page outside fenced code blocks.
fn prose_lines(text: &str) -> Vec<&str> {
    let mut fenced = false;
    let mut lines = Vec::new();
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
        } else if !fenced {
            lines.push(line);
        }
    }
    lines
}

fn without_code_spans(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut in_code = false;
    for ch in line.chars() {
        if ch == '`' {
            in_code = !in_code;
        } else if !in_code {
            out.push(ch);
        }
    }
    out
}

/// The anchors GitHub gives a page's headings (a repeated heading gets `-1`, `-2`, ...).
fn anchors(text: &str) -> Vec<String> {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut anchors = Vec::new();
    for line in prose_lines(text) {
        let Some(heading) = line.strip_prefix('#') else {
            continue;
        };
        let heading = heading.trim_start_matches('#');
        if !heading.starts_with(' ') {
            continue;
        }
        let base = slug(heading.trim());
        let count = seen.entry(base.clone()).or_default();
        anchors.push(if *count == 0 {
            base.clone()
        } else {
            format!("{base}-{count}")
        });
        *count += 1;
    }
    anchors
}

/// GitHub's anchor of a heading: lower case, punctuation other than `-` and `_` dropped,
/// spaces turned into `-`.
fn slug(heading: &str) -> String {
    heading
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_'))
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}
