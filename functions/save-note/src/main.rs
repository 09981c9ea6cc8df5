use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use save_note::SaveNote;

#[tokio::main]
async fn main() -> Result<(), Error> {
    notes_core::telemetry::init("save-note");
    let app = &SaveNote::from_env().await?;
    run(service_fn(move |event: LambdaEvent<SqsEvent>| async move { Ok::<_, Error>(app.handle(event.payload).await) }))
        .await
}
