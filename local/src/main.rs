//! `notes-local`: runs the whole suite on 127.0.0.1. See `local/README.md` for the options.

use std::path::PathBuf;

use notes_local::moto::{self, MotoServer};
use notes_local::{StackConfig, start};

const USAGE: &str = "usage: notes-local [--http-port N] [--ws-port N] [--frontend-port N] [--frontend-dir DIR]
                   [--aws-endpoint URL | --moto-port N] [--prefix NAME] [--visibility-timeout SECONDS]
                   [--fault-injection] [--allowed-origin ORIGIN]...
       notes-local redrive [--aws-endpoint URL | --moto-port N] [--prefix NAME]
                   (moves the running stack's dead-lettered notes back to their queue)";

/// `notes-local redrive`: what `aws sqs start-message-move-task` does in AWS, for a running stack.
async fn redrive(args: &[String]) -> Result<usize, String> {
    let mut endpoint = std::env::var("AWS_ENDPOINT_URL").ok().filter(|v| !v.is_empty());
    let mut prefix = StackConfig::default().prefix;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().cloned().ok_or_else(|| format!("{name} needs a value\n{USAGE}"));
        match arg.as_str() {
            "--aws-endpoint" => endpoint = Some(value("--aws-endpoint")?),
            "--moto-port" => endpoint = Some(format!("http://127.0.0.1:{}", value("--moto-port")?)),
            "--prefix" => prefix = value("--prefix")?,
            other => return Err(format!("unknown option {other}\n{USAGE}")),
        }
    }
    let endpoint = endpoint.unwrap_or_else(|| format!("http://127.0.0.1:{}", moto::DEFAULT_PORT));
    let sdk = notes_local::emulator_sdk_config(&endpoint).await;
    notes_local::redrive::note_dlq_of(&aws_sdk_sqs::Client::new(&sdk), &prefix).await
}

/// The stack's configuration, and the port to start moto on when no emulator is given.
fn parse_args() -> Result<(StackConfig, u16), String> {
    let mut moto_port = moto::DEFAULT_PORT;
    let mut config = StackConfig {
        frontend_dir: Some(PathBuf::from("frontend/build")),
        aws_endpoint: std::env::var("AWS_ENDPOINT_URL").ok().filter(|v| !v.is_empty()),
        ..StackConfig::default()
    };
    if let Ok(secret) = std::env::var("JWT_SECRET") {
        config.jwt_secret = secret;
    }
    if let Ok(origins) = std::env::var("ALLOWED_ORIGINS") {
        config.allowed_origins.extend(origins.split(',').map(str::trim).filter(|o| !o.is_empty()).map(str::to_owned));
    }
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value\n{USAGE}"));
        let port = |v: String| v.parse::<u16>().map_err(|_| format!("not a port: {v}"));
        match arg.as_str() {
            "--http-port" => config.http_port = port(value("--http-port")?)?,
            "--ws-port" => config.ws_port = port(value("--ws-port")?)?,
            "--frontend-port" => config.frontend_port = port(value("--frontend-port")?)?,
            "--frontend-dir" => config.frontend_dir = Some(PathBuf::from(value("--frontend-dir")?)),
            "--aws-endpoint" => config.aws_endpoint = Some(value("--aws-endpoint")?),
            "--moto-port" => moto_port = port(value("--moto-port")?)?,
            "--prefix" => config.prefix = value("--prefix")?,
            "--visibility-timeout" => {
                let v = value("--visibility-timeout")?;
                config.visibility_timeout_seconds =
                    Some(v.parse().map_err(|_| format!("not a number of seconds: {v}"))?);
            }
            "--fault-injection" => config.fault_injection = true,
            "--allowed-origin" => config.allowed_origins.push(value("--allowed-origin")?),
            "-h" | "--help" => return Err(USAGE.into()),
            other => return Err(format!("unknown option {other}\n{USAGE}")),
        }
    }
    Ok((config, moto_port))
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    notes_core::telemetry::init("notes-local");
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("redrive") {
        return match redrive(&args[1..]).await {
            Ok(moved) => {
                println!("redrive: {moved} dead-lettered notes sent back to their queue");
                std::process::ExitCode::SUCCESS
            }
            Err(err) => {
                eprintln!("notes-local redrive: {err}");
                std::process::ExitCode::FAILURE
            }
        };
    }
    let (mut config, moto_port) = match parse_args() {
        Ok(parsed) => parsed,
        Err(message) => {
            eprintln!("{message}");
            return std::process::ExitCode::from(2);
        }
    };
    // Without an emulator given, moto runs on a fixed port (3002 unless --moto-port says otherwise),
    // the endpoint `cargo lambda watch` and `sam local` are configured with (README, local testing).
    let _moto = match &config.aws_endpoint {
        Some(_) => None,
        None => match MotoServer::start_on(moto_port).await {
            Ok(server) => {
                config.aws_endpoint = Some(server.endpoint());
                Some(server)
            }
            Err(err) => {
                eprintln!("notes-local: {err}");
                return std::process::ExitCode::FAILURE;
            }
        },
    };
    let stack = match start(config).await {
        Ok(stack) => stack,
        Err(err) => {
            eprintln!("notes-local: {err}");
            return std::process::ExitCode::FAILURE;
        }
    };
    println!("notes-local is running (Ctrl-C stops everything it started):");
    println!("  REST API        {}", stack.http_url());
    println!("  WebSocket API   {}?token=<JWT>", stack.ws_url());
    println!(
        "  @connections    {}/@connections/{{connectionId}}",
        stack.http_url().replace(&stack.http_addr.to_string(), &stack.ws_addr.to_string())
    );
    match stack.frontend_url() {
        Some(url) => println!("  Frontend        {url}"),
        None => println!("  Frontend        not served (build it: cd frontend && npm ci && npm run build)"),
    }
    println!(
        "  AWS emulator    {} (table {}, bus {})",
        stack.aws_endpoint, stack.resources.table_name, stack.resources.bus_name
    );
    let _ = tokio::signal::ctrl_c().await;
    println!("stopping");
    drop(stack);
    std::process::ExitCode::SUCCESS
}
