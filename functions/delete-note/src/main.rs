//! The Lambda binary of `delete-note`: built once per cold start from the environment, then run.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    notes_core::function::run_http::<delete_note::DeleteNote>().await
}
