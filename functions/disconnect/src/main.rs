//! The Lambda binary of `disconnect`: built once per cold start from the environment, then run.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    notes_core::function::run_websocket::<disconnect::Disconnect>().await
}
