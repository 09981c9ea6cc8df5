use std::convert::Infallible;

use get_note::GetNote;
use lambda_http::{Error, Request, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    notes_core::telemetry::init("get-note");
    let app = &GetNote::from_env().await?;
    run(service_fn(move |req: Request| async move { Ok::<_, Infallible>(app.handle(req).await) })).await
}
