//! The Lambda binary of `get-public-notes`: built once per cold start from the environment, then run.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    notes_core::function::run_http::<get_public_notes::GetPublicNotes>().await
}
