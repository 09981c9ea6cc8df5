use std::convert::Infallible;

use lambda_http::{Error, Request, run, service_fn};
use update_note::UpdateNote;

#[tokio::main]
async fn main() -> Result<(), Error> {
    notes_core::telemetry::init("update-note");
    let app = &UpdateNote::from_env().await?;
    run(service_fn(move |req: Request| async move { Ok::<_, Infallible>(app.handle(req).await) })).await
}
