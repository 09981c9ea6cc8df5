use std::convert::Infallible;

use lambda_http::{Error, Request, run, service_fn};
use login::Login;

#[tokio::main]
async fn main() -> Result<(), Error> {
    notes_core::telemetry::init("login");
    let app = &Login::from_env().await?;
    run(service_fn(move |req: Request| async move { Ok::<_, Infallible>(app.handle(req).await) })).await
}
