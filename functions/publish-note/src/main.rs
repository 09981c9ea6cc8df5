use std::convert::Infallible;

use lambda_http::{Error, Request, run, service_fn};
use publish_note::PublishNote;

#[tokio::main]
async fn main() -> Result<(), Error> {
    notes_core::telemetry::init("publish-note");
    let app = &PublishNote::from_env().await?;
    run(service_fn(move |req: Request| async move { Ok::<_, Infallible>(app.handle(req).await) })).await
}
