//! The Lambda binary of `connect`: built once per cold start from the environment, then run.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    notes_core::function::run_websocket::<connect::Connect>().await
}
