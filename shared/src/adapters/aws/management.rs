//! Pushes to WebSocket connections, through the API Gateway Management API
//! (`aws-sdk-apigatewaymanagement`, `PostToConnection`).

use async_trait::async_trait;
use aws_config::SdkConfig;
use aws_sdk_apigatewaymanagement::Client;
use aws_sdk_apigatewaymanagement::error::DisplayErrorContext;
use aws_sdk_apigatewaymanagement::primitives::Blob;

use crate::ports::{ConnectionPusher, PushError};

#[derive(Clone, Debug)]
pub struct ManagementApi {
    client: Client,
}

impl ManagementApi {
    /// `endpoint` is `https://{api-id}.execute-api.{region}.amazonaws.com/{stage}` in AWS. It is
    /// set on this client alone, so it wins over `AWS_ENDPOINT_URL` (which points elsewhere locally).
    pub fn new(sdk: &SdkConfig, endpoint: &str) -> Self {
        let config = aws_sdk_apigatewaymanagement::config::Builder::from(sdk).endpoint_url(endpoint).build();
        Self { client: Client::from_conf(config) }
    }
}

#[async_trait]
impl ConnectionPusher for ManagementApi {
    async fn push(&self, connection_id: &str, payload: &[u8]) -> Result<(), PushError> {
        match self.client.post_to_connection().connection_id(connection_id).data(Blob::new(payload)).send().await {
            Ok(_) => Ok(()),
            Err(err) => {
                let err = err.into_service_error();
                if err.is_gone_exception() {
                    Err(PushError::Gone)
                } else {
                    Err(PushError::Unavailable(DisplayErrorContext(err).to_string()))
                }
            }
        }
    }

    async fn is_open(&self, connection_id: &str) -> Result<bool, PushError> {
        match self.client.get_connection().connection_id(connection_id).send().await {
            Ok(_) => Ok(true),
            Err(err) => {
                let err = err.into_service_error();
                if err.is_gone_exception() {
                    Ok(false)
                } else {
                    Err(PushError::Unavailable(DisplayErrorContext(err).to_string()))
                }
            }
        }
    }
}
