//! Rules of the code base that a reviewer would otherwise have to remember.

use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
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
    let mut cdk = Vec::new();
    for entry in std::fs::read_dir(repo().join("cdk/lib")).unwrap().flatten() {
        cdk.push(std::fs::read_to_string(entry.path()).unwrap());
    }
    assert!(cdk.iter().all(|t| !t.contains("dynamodb:Scan")), "an IAM policy allows Scan");
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
        assert!(main.contains("telemetry::init"), "{} does not set up logging", crate_dir.display());
    }
}
