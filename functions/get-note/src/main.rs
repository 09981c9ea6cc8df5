//! The Lambda binary of `get-note`: built once per cold start from the environment, then run.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    notes_core::function::run_http::<get_note::GetNote>().await
}
