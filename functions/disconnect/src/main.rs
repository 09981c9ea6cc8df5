use aws_lambda_events::apigw::ApiGatewayWebsocketProxyRequest;
use disconnect::Disconnect;
use lambda_runtime::{Error, LambdaEvent, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    notes_core::telemetry::init("disconnect");
    let app = &Disconnect::from_env().await?;
    run(service_fn(move |event: LambdaEvent<ApiGatewayWebsocketProxyRequest>| async move {
        Ok::<_, Error>(app.handle(event.payload).await)
    }))
    .await
}
