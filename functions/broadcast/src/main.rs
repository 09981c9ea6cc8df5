//! The Lambda binary of `broadcast`: built once per cold start from the environment, then run on
//! each SQS batch of the broadcast queue; the answer lists the shards to retry.

use aws_lambda_events::sqs::SqsEvent;
use broadcast::Broadcast;
use lambda_runtime::{Error, LambdaEvent, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let app = &notes_core::function::init::<Broadcast>().await?;
    run(service_fn(move |event: LambdaEvent<SqsEvent>| async move { Ok::<_, Error>(app.handle(event.payload).await) }))
        .await
}
