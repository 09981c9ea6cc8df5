//! The Lambda binary of `publish-note`: built once per cold start from the environment, then run.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    notes_core::function::run_http::<publish_note::PublishNote>().await
}
