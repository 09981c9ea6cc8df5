//! The Lambda binary of `notify`: built once per cold start from the environment, then run on each
//! event; a failure makes Lambda retry the event and then send it to the DLQ.

use aws_lambda_events::eventbridge::EventBridgeEvent;
use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use notify::Notify;
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let app = &notes_core::function::init::<Notify>().await?;
    run(service_fn(move |event: LambdaEvent<EventBridgeEvent<Value>>| async move {
        app.handle(event.payload).await.map(|_| ()).map_err(Error::from)
    }))
    .await
}
