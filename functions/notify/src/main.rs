use aws_lambda_events::eventbridge::EventBridgeEvent;
use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use notify::Notify;
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    notes_core::telemetry::init("notify");
    let app = &Notify::from_env().await?;
    run(service_fn(move |event: LambdaEvent<EventBridgeEvent<Value>>| async move {
        app.handle(event.payload).await.map(|_| ()).map_err(Error::from)
    }))
    .await
}
