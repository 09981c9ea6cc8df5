//! `notes-local`: runs the whole suite on 127.0.0.1. See `local/README.md` for the options.

use std::path::PathBuf;

use notes_local::dynamodb_local::{self, DynamoDbLocal};
use notes_local::moto::{self, MotoServer};
use notes_local::{StackConfig, start};

const USAGE: &str = "usage: notes-local [--http-port N] [--ws-port N] [--frontend-port N] [--frontend-dir DIR]
                   [--aws-endpoint URL | --moto-port N]
                   [--dynamodb-endpoint URL | --dynamodb-port N] [--dynamodb-data DIR]
                   [--prefix NAME] [--visibility-timeout SECONDS]
                   [--fault-injection] [--fault-plan PRESET|FILE] [--allowed-origin ORIGIN]...
       notes-local redrive [--aws-endpoint URL | --moto-port N] [--prefix NAME]
                   (moves the running stack's dead-lettered notes back to their queue)";

/// Where `notes-local` starts the emulators it is not given: fixed ports, so that what runs
/// outside the stack against them (`cargo lambda watch`, `sam local`) is configured once.
struct EmulatorPorts {
    moto: u16,
    dynamodb: u16,
}

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
    // Only SQS is called: the DynamoDB endpoint is never reached.
    let sdk = notes_local::emulator_sdk_config(&endpoint, &endpoint).await;
    notes_local::redrive::note_dlq_of(&aws_sdk_sqs::Client::new(&sdk), &prefix).await
}

/// The stack's configuration, and the ports to start the emulators on when none is given.
fn parse_args() -> Result<(StackConfig, EmulatorPorts), String> {
    let mut ports = EmulatorPorts { moto: moto::DEFAULT_PORT, dynamodb: dynamodb_local::DEFAULT_PORT };
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
            "--moto-port" => ports.moto = port(value("--moto-port")?)?,
            "--dynamodb-endpoint" => config.dynamodb_endpoint = Some(value("--dynamodb-endpoint")?),
            "--dynamodb-port" => ports.dynamodb = port(value("--dynamodb-port")?)?,
            "--dynamodb-data" => config.dynamodb_data = Some(PathBuf::from(value("--dynamodb-data")?)),
            "--prefix" => config.prefix = value("--prefix")?,
            "--visibility-timeout" => {
                let v = value("--visibility-timeout")?;
                config.visibility_timeout_seconds =
                    Some(v.parse().map_err(|_| format!("not a number of seconds: {v}"))?);
            }
            "--fault-injection" => config.fault_injection = true,
            "--fault-plan" => config.fault_plan = Some(notes_local::faults::FaultPlan::load(&value("--fault-plan")?)?),
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
    Ok((config, ports))
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
    let (mut config, ports) = match parse_args() {
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
        None => match MotoServer::start_on(ports.moto).await {
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
    // DynamoDB Local likewise, on 3003 unless --dynamodb-port says otherwise.
    let _dynamodb = match &config.dynamodb_endpoint {
        Some(_) => None,
        None => {
            let storage = match config.dynamodb_data.take() {
                Some(dir) => dynamodb_local::Storage::Disk(dir),
                None => dynamodb_local::Storage::InMemory,
            };
            match DynamoDbLocal::start_on(ports.dynamodb, &storage).await {
                Ok(server) => {
                    config.dynamodb_endpoint = Some(server.endpoint());
                    Some(server)
                }
                Err(err) => {
                    eprintln!("notes-local: {err}");
                    return std::process::ExitCode::FAILURE;
                }
            }
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
    println!("  WebSocket API   {} (Sec-WebSocket-Protocol: notes.v1, bearer.<JWT>)", stack.ws_url());
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
    if let Some(faults) = &stack.fault_plan {
        println!("  Fault plan      {}", serde_json::to_string(faults.plan()).unwrap_or_default());
    }
    let _ = tokio::signal::ctrl_c().await;
    println!("stopping");
    drop(stack);
    std::process::ExitCode::SUCCESS
}
