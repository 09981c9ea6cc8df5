//! WebSocket `$disconnect`: removes the connection's items. A connection that is unknown or
//! already removed (by `notify` after a 410, or by TTL) is not an error.

use std::sync::Arc;

use async_trait::async_trait;
use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use notes_core::edge::config::ConfigError;
use notes_core::edge::function::{Function, Settings, WebSocket, WebSocketFunction};
use notes_core::edge::http::websocket_response;
use notes_core::ports::ConnectionStore;

pub struct Disconnect {
    connections: Arc<dyn ConnectionStore>,
}

impl Disconnect {
    pub fn new(connections: Arc<dyn ConnectionStore>) -> Self {
        Self { connections }
    }
}

impl Function for Disconnect {
    const NAME: &'static str = env!("CARGO_PKG_NAME");
    type Trigger = WebSocket;

    async fn build(settings: &Settings) -> Result<Self, ConfigError> {
        Ok(Self::new(settings.connections()?))
    }
}

#[async_trait]
impl WebSocketFunction for Disconnect {
    async fn handle(&self, request: ApiGatewayWebsocketProxyRequest) -> ApiGatewayProxyResponse {
        let connection_id = request.request_context.connection_id.unwrap_or_default();
        match self.connections.remove(&connection_id).await {
            Ok(Some(gone)) => {
                tracing::info!(connectionId = %connection_id, username = %gone.username, "disconnected")
            }
            Ok(None) => {
                tracing::info!(connectionId = %connection_id, "disconnect of an unknown connection")
            }
            Err(err) => {
                // Its items expire by TTL anyway; API Gateway ignores this answer.
                tracing::error!(connectionId = %connection_id, error = %err, "connection items not removed");
                return websocket_response(500, None);
            }
        }
        websocket_response(200, None)
    }
}
