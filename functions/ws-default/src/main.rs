//! The Lambda binary of `ws-default`: built once per cold start from the environment, then run.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    notes_core::function::run_websocket::<ws_default::WsDefault>().await
}
