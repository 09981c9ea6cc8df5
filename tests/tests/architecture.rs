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
fn every_main_is_one_line_through_the_function_model() {
    for entry in std::fs::read_dir(repo().join("functions")).unwrap().flatten() {
        let crate_dir = entry.path();
        if !crate_dir.join("Cargo.toml").exists() {
            continue;
        }
        let name = entry.file_name().to_string_lossy().replace('-', "_");
        let main = std::fs::read_to_string(crate_dir.join("src/main.rs")).unwrap();
        assert!(crate_dir.join("src/lib.rs").exists(), "{} has no library", crate_dir.display());
        let lines: Vec<&str> = main.lines().filter(|l| !l.trim().is_empty()).collect();
        assert!(
            lines.len() == 1 && lines[0].starts_with(&format!("notes_core::lambda_main!({name}::")),
            "{}/src/main.rs is not the one line `notes_core::lambda_main!({name}::Type);`",
            crate_dir.display()
        );
    }
}

/// Every file of the repository that is code or configuration (not documentation), outside
/// `target/`, `node_modules/` and build outputs.
fn code_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if path.is_dir() {
            let skipped = ["target", "node_modules", ".git", ".venv", "build", "cdk.out", "cdk.out.sam", ".svelte-kit"];
            if !skipped.contains(&name.as_str()) {
                code_files(&path, out);
            }
        } else if ["rs", "ts", "mjs", "js", "py", "sh", "toml", "json", "yaml", "svelte"]
            .iter()
            .any(|ext| name.ends_with(&format!(".{ext}")))
            && !name.ends_with("package-lock.json")
        {
            out.push(path);
        }
    }
}

/// The files that may name every function: the declarations, and what Rust must be told to link
/// (`local/Cargo.toml`, checked against the declarations by `local/build.rs`; `Cargo.lock`, cargo's),
/// and the deterministic simulation, which drives the functions of a note's life by name because
/// it tests exactly those (a new route needs nothing of it). `docs/adding-a-function.md` says the same.
const MAY_LIST_THE_FUNCTIONS: [&str; 5] =
    ["shared/topology.json", "local/Cargo.toml", "Cargo.lock", "tests/sim/Cargo.toml", "tests/sim/src/lib.rs"];

#[test]
fn no_file_keeps_a_list_of_the_functions_by_hand() {
    let names: Vec<String> = notes_core::topology::topology().functions.keys().cloned().collect();
    let mut files = Vec::new();
    code_files(&repo(), &mut files);
    for path in files {
        let relative = path.strip_prefix(repo()).unwrap().to_string_lossy().replace('\\', "/");
        if MAY_LIST_THE_FUNCTIONS.contains(&relative.as_str()) {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let named = names
            .iter()
            .filter(|name| {
                let snake = name.replace('-', "_");
                contains_word(&text, name) || contains_word(&text, &snake)
            })
            .count();
        // A file about a few functions names a few; one that names most of them is a list.
        assert!(
            named * 2 <= names.len(),
            "{relative} names {named} of the {} declared functions: a list kept by hand; derive it from shared/topology.json",
            names.len()
        );
    }
}

/// Whether `word` occurs in `text` with no identifier character or `-` on either side.
fn contains_word(text: &str, word: &str) -> bool {
    let is_part = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    text.match_indices(word).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + word.len()..].chars().next();
        !before.is_some_and(is_part) && !after.is_some_and(is_part)
    })
}

#[test]
fn the_guide_to_adding_a_function_names_the_files_a_new_route_touches() {
    let guide = std::fs::read_to_string(repo().join("docs/adding-a-function.md")).unwrap();
    for file in [
        "shared/topology.json",
        "shared/openapi.yaml",
        "functions/<name>/Cargo.toml",
        "functions/<name>/src/main.rs",
        "functions/<name>/src/lib.rs",
        "functions/<name>/tests/<name>.rs",
        "local/Cargo.toml",
    ] {
        assert!(guide.contains(&format!("`{file}`")), "docs/adding-a-function.md does not name `{file}`");
    }
    // Every existing function crate has exactly the shape the guide and the scaffold give a new one.
    for entry in std::fs::read_dir(repo().join("functions")).unwrap().flatten() {
        let dir = entry.path();
        if dir.join("Cargo.toml").exists() {
            let snake = entry.file_name().to_string_lossy().replace('-', "_");
            for file in ["src/main.rs", "src/lib.rs", &format!("tests/{snake}.rs")] {
                assert!(dir.join(file).exists(), "{} has no {file}", dir.display());
            }
            let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
            assert!(
                manifest.contains("[package.metadata.lambda.env]"),
                "{}: no cargo-lambda environment",
                dir.display()
            );
        }
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
