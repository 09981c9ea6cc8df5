//! Rules of the code base that a reviewer would otherwise have to remember.

use std::path::{Path, PathBuf};

/// The repository's root, without a `..` (paths below are filtered by their components).
fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ is inside the repository").to_path_buf()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n != "target" && n != "node_modules") {
                rust_files(&path, out);
            }
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn sources_under(folder: &str) -> Vec<(PathBuf, String)> {
    let mut files = Vec::new();
    rust_files(&repo().join(folder), &mut files);
    assert!(!files.is_empty(), "no Rust files under {folder}");
    files.into_iter().map(|p| (p.clone(), std::fs::read_to_string(&p).unwrap())).collect()
}

#[test]
fn no_handler_touches_an_sdk_type() {
    for (path, text) in sources_under("functions") {
        if path.components().any(|c| c.as_os_str() == "src") {
            assert!(!text.contains("aws_sdk_"), "{} names an SDK crate; go through a port in shared/", path.display());
        }
    }
}

#[test]
fn nothing_scans_the_table() {
    for folder in ["shared", "functions", "local"] {
        for (path, text) in sources_under(folder) {
            assert!(!text.contains(".scan()"), "{} calls Scan", path.display());
        }
    }
    // Every table permission comes from the declarations (the CDK app's jest tests also check
    // every synthesized policy).
    for (name, function) in &notes_core::topology::topology().functions {
        for action in &function.table_actions {
            assert!(!action.ends_with(":Scan") && !action.ends_with(":*"), "{name} is allowed {action}");
        }
    }
}

#[test]
fn every_function_crate_has_a_tiny_main_and_its_handler_in_the_library() {
    for entry in std::fs::read_dir(repo().join("functions")).unwrap().flatten() {
        let crate_dir = entry.path();
        if !crate_dir.is_dir() {
            continue;
        }
        let main = std::fs::read_to_string(crate_dir.join("src/main.rs")).unwrap();
        assert!(crate_dir.join("src/lib.rs").exists(), "{} has no library", crate_dir.display());
        assert!(main.lines().count() <= 20, "{}/src/main.rs is not tiny", crate_dir.display());
        assert!(
            ["function::run_http::<", "function::run_websocket::<", "function::init::<"]
                .iter()
                .any(|s| main.contains(s)),
            "{} is not built through notes_core::function (telemetry, settings, Function::build)",
            crate_dir.display()
        );
    }
}

/// The code of a file, without its `#[cfg(test)]` module, and without the names given to tracing
/// spans (a span's name labels log lines; it declares nothing).
fn code_of(text: &str) -> String {
    let code = text.split("#[cfg(test)]").next().unwrap_or(text);
    let mut out = String::with_capacity(code.len());
    let mut rest = code;
    while let Some(at) = rest.find("_span!(") {
        let (before, after) = rest.split_at(at + "_span!(".len());
        out.push_str(before);
        let trimmed = after.trim_start();
        rest = match trimmed.strip_prefix('"').and_then(|s| s.find('"').map(|end| &s[end + 1..])) {
            Some(past_name) => past_name,
            None => after,
        };
    }
    out.push_str(rest);
    out
}

#[test]
fn every_declared_function_has_a_crate_named_after_it_and_every_crate_is_declared() {
    let declared: std::collections::BTreeSet<String> =
        notes_core::topology::topology().functions.keys().cloned().collect();
    let mut crates = std::collections::BTreeSet::new();
    for entry in std::fs::read_dir(repo().join("functions")).unwrap().flatten() {
        if entry.path().join("Cargo.toml").exists() {
            let lib = std::fs::read_to_string(entry.path().join("src/lib.rs")).unwrap();
            assert!(
                lib.contains("const NAME: &'static str = env!(\"CARGO_PKG_NAME\");"),
                "{}: a function is named by its crate, never by a string of its own",
                entry.path().display()
            );
            crates.insert(entry.file_name().to_string_lossy().into_owned());
        }
    }
    assert_eq!(crates, declared, "functions/ and the declarations in shared/topology.json differ");
}

#[test]
fn a_function_is_declared_in_one_place_only() {
    // Its name, its route and its trigger live in shared/topology.json; code reads them from there.
    let topology = notes_core::topology::topology();
    let mut facts: Vec<String> = Vec::new();
    for (name, function) in &topology.functions {
        facts.push(format!("\"{name}\""));
        if let notes_core::topology::Trigger::Http(route) = &function.trigger {
            facts.push(format!("\"{}\"", route.path));
            facts.push(format!("\"{}\"", route.key()));
        }
    }
    assert!(!repo().join("shared/routes.json").exists(), "a second route table");
    let mut sources = Vec::new();
    for folder in ["shared/src", "functions", "local/src"] {
        sources.extend(
            sources_under(folder).into_iter().filter(|(p, _)| !p.components().any(|c| c.as_os_str() == "tests")),
        );
    }
    for folder in ["cdk/lib", "cdk/bin"] {
        for entry in std::fs::read_dir(repo().join(folder)).unwrap().flatten() {
            let code: String = std::fs::read_to_string(entry.path())
                .unwrap()
                .lines()
                .filter(|l| !matches!(l.trim_start().get(..2), Some("//" | "/*" | "* ")))
                .map(|l| format!("{}\n", l.replace('\'', "\"")))
                .collect();
            sources.push((entry.path(), code));
        }
    }
    for (path, text) in sources {
        for fact in &facts {
            assert!(
                !code_of(&text).contains(fact.as_str()),
                "{} declares {fact} again; read it from shared/topology.json",
                path.display()
            );
        }
    }
}
