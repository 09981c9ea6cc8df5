use aws_lambda_events::apigw::ApiGatewayWebsocketProxyRequest;
use connect::Connect;
use lambda_runtime::{Error, LambdaEvent, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    notes_core::telemetry::init("connect");
    let app = &Connect::from_env().await?;
    run(service_fn(move |event: LambdaEvent<ApiGatewayWebsocketProxyRequest>| async move {
        Ok::<_, Error>(app.handle(event.payload).await)
    }))
    .await
}
