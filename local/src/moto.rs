//! moto's server: the emulator behind DynamoDB, SQS and EventBridge locally.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::process::{Child, Command};

use crate::config::StackError;

/// The port `notes-local` starts moto on unless told otherwise. Fixed, so that what runs outside
/// the stack against its emulator (`cargo lambda watch`, `sam local`) is configured once, in the
/// functions' `[package.metadata.lambda.env]` and in `events/env.json`.
pub const DEFAULT_PORT: u16 = 3002;

/// A moto server this process started; it is killed when this is dropped.
pub struct MotoServer {
    port: u16,
    _child: Child,
}

impl MotoServer {
    /// Starts `moto_server` on a free loopback port and waits until it answers.
    pub async fn start() -> Result<Self, StackError> {
        Self::start_on(0).await
    }

    /// Starts `moto_server` on 127.0.0.1:`port` (0 picks a free one) and waits until it answers.
    pub async fn start_on(port: u16) -> Result<Self, StackError> {
        let program = moto_program();
        let port = if port == 0 {
            free_port().map_err(|e| StackError::Moto(e.to_string()))?
        } else {
            // Something else answering on a taken port must not pass for moto.
            std::net::TcpListener::bind(("127.0.0.1", port)).map_err(|e| {
                StackError::Moto(format!(
                    "127.0.0.1:{port} is not free ({e}): stop what listens there, pass --moto-port 0 for any free \
                     port, or set AWS_ENDPOINT_URL to an emulator that is already running"
                ))
            })?;
            port
        };
        let mut child = moto_command(&program)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| {
                StackError::Moto(format!(
                    "{} ({e}); run `make venv` or set MOTO_SERVER to moto_server's path",
                    program.display()
                ))
            })?;
        for _ in 0..300 {
            if let Ok(Some(status)) = child.try_wait() {
                return Err(StackError::Moto(format!("{} exited ({status}) before answering", program.display())));
            }
            if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
                return Ok(Self { port, _child: child });
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err(StackError::Moto(format!("moto did not answer on port {port} within 30 s")))
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

/// `MOTO_SERVER`, else the project venv's `moto_server`, else the one on `PATH`.
fn moto_program() -> PathBuf {
    if let Some(path) = std::env::var_os("MOTO_SERVER") {
        return PathBuf::from(path);
    }
    let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/moto_server");
    if venv.exists() {
        return venv;
    }
    PathBuf::from("moto_server")
}

/// How `program` is started: a venv's `moto_server` through `local/moto_server.py` with that venv's
/// Python (moto, without the per-message queue scan of its SQS receive; see that file), any other
/// `moto_server` as it is.
fn moto_command(program: &Path) -> Command {
    let wrapper = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("moto_server.py");
    match program.parent().map(|dir| dir.join("python")) {
        Some(python) if python.exists() && wrapper.exists() => {
            let mut command = Command::new(python);
            command.arg(wrapper);
            command
        }
        _ => Command::new(program),
    }
}

fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind(("127.0.0.1", 0))?.local_addr()?.port())
}
