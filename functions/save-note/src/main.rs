//! The Lambda binary of `save-note`: built once per cold start from the environment, then run on
//! each SQS batch; the answer lists the records to retry.

use aws_lambda_events::sqs::SqsEvent;
use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use save_note::SaveNote;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let app = &notes_core::function::init::<SaveNote>().await?;
    run(service_fn(move |event: LambdaEvent<SqsEvent>| async move { Ok::<_, Error>(app.handle(event.payload).await) }))
        .await
}
