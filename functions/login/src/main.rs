//! The Lambda binary of `login`: built once per cold start from the environment, then run.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    notes_core::function::run_http::<login::Login>().await
}
