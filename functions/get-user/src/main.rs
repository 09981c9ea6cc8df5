use std::convert::Infallible;

use get_user::GetUser;
use lambda_http::{Error, Request, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    notes_core::telemetry::init("get-user");
    let app = &GetUser::from_env().await?;
    run(service_fn(move |req: Request| async move { Ok::<_, Infallible>(app.handle(req).await) })).await
}
