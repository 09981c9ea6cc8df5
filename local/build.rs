//! Generates the local stack's list of functions from their declarations (`shared/topology.json`):
//! one `build::<crate::Type>` per declared function, the type being its crate's name in
//! UpperCamelCase (`get-note` → `get_note::GetNote`), as `scripts/new-function.sh` creates it.
//! Nothing in `local/` names a function by hand; a declared function that is not a dependency
//! of this crate fails the build here, naming it.

use std::fmt::Write as _;

fn main() {
    let manifest_dir = std::path::PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let topology_path = manifest_dir.join("../shared/topology.json");
    let manifest = std::fs::read_to_string(manifest_dir.join("Cargo.toml")).expect("local/Cargo.toml");
    println!("cargo:rerun-if-changed={}", topology_path.display());
    println!("cargo:rerun-if-changed=Cargo.toml");
    let topology: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&topology_path).expect("shared/topology.json"))
            .expect("shared/topology.json is JSON");
    let functions = topology["functions"].as_object().expect("topology.json declares functions");
    let mut code = String::from(
        "/// Every declared function, each built through the one path Lambda's binary takes.\n\
         pub async fn build_all(settings: &Settings) -> Result<Vec<(&'static str, Handler)>, ConfigError> {\n    Ok(vec![\n",
    );
    for name in functions.keys() {
        assert!(
            manifest.lines().any(|line| line.starts_with(&format!("{name} = {{ path = \"../functions/{name}\""))),
            "{name} is declared in shared/topology.json but local/Cargo.toml does not depend on functions/{name} \
             (scripts/new-function.sh adds it)"
        );
        let krate = name.replace('-', "_");
        let ty: String = name
            .split('-')
            .map(|word| {
                let mut chars = word.chars();
                chars.next().map(|c| c.to_ascii_uppercase().to_string() + chars.as_str()).unwrap_or_default()
            })
            .collect();
        writeln!(code, "        ({name:?}, build::<{krate}::{ty}>(settings).await?),").expect("a string");
    }
    code.push_str("    ])\n}\n");
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR").expect("set by cargo")).join("declared_functions.rs");
    std::fs::write(out, code).expect("OUT_DIR is writable");
}
