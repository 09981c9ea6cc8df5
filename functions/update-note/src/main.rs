//! The Lambda binary of `update-note`: built once per cold start from the environment, then run.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    notes_core::function::run_http::<update_note::UpdateNote>().await
}
