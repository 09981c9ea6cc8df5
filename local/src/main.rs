//! `notes-local`: runs the whole suite on 127.0.0.1. See `local/README.md` for the options.

use std::path::PathBuf;

use notes_local::{StackConfig, start};

const USAGE: &str = "usage: notes-local [--http-port N] [--ws-port N] [--frontend-port N] [--frontend-dir DIR]
                   [--aws-endpoint URL] [--dynamodb-endpoint URL | --dynamodb-data DIR]
                   [--prefix NAME] [--visibility-timeout SECONDS]
                   [--fault-injection] [--allowed-origin ORIGIN]...";

fn parse_args() -> Result<StackConfig, String> {
    let mut config = StackConfig {
        frontend_dir: Some(PathBuf::from("frontend/build")),
        aws_endpoint: std::env::var("AWS_ENDPOINT_URL").ok().filter(|v| !v.is_empty()),
        dynamodb_endpoint: std::env::var("AWS_ENDPOINT_URL_DYNAMODB").ok().filter(|v| !v.is_empty()),
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
            "--dynamodb-endpoint" => config.dynamodb_endpoint = Some(value("--dynamodb-endpoint")?),
            "--dynamodb-data" => config.dynamodb_data = Some(PathBuf::from(value("--dynamodb-data")?)),
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
    if config.dynamodb_endpoint.is_some() && config.dynamodb_data.is_some() {
        return Err("--dynamodb-data is for the DynamoDB Local notes-local starts; it cannot go with a DynamoDB \
                    endpoint (--dynamodb-endpoint or AWS_ENDPOINT_URL_DYNAMODB)"
            .into());
    }
    Ok(config)
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    notes_core::telemetry::init("notes-local");
    let config = match parse_args() {
        Ok(config) => config,
        Err(message) => {
            eprintln!("{message}");
            return std::process::ExitCode::from(2);
        }
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
    println!("  DynamoDB        {} (table {})", stack.dynamodb_endpoint, stack.resources.table_name);
    println!("  SQS, EventBridge {} (bus {})", stack.aws_endpoint, stack.resources.bus_name);
    let _ = tokio::signal::ctrl_c().await;
    println!("stopping");
    drop(stack);
    std::process::ExitCode::SUCCESS
}
