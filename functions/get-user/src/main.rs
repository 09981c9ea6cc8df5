//! The Lambda binary of `get-user`: built once per cold start from the environment, then run.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    notes_core::function::run_http::<get_user::GetUser>().await
}
