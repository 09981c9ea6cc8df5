use std::convert::Infallible;

use delete_note::DeleteNote;
use lambda_http::{Error, Request, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    notes_core::telemetry::init("delete-note");
    let app = &DeleteNote::from_env().await?;
    run(service_fn(move |req: Request| async move { Ok::<_, Infallible>(app.handle(req).await) })).await
}
