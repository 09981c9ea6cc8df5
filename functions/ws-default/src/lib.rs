//! WebSocket `$default`: `{"action": "ping"}` answers `{"type": "pong"}` (clients ping to stay
//! under API Gateway's 10-minute idle timeout); anything else gets a short JSON error. The route
//! is two-way, so the returned body is what the client receives.

use async_trait::async_trait;
use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use notes_core::edge::config::ConfigError;
use notes_core::edge::function::{Function, Settings, WebSocket, WebSocketFunction};
use notes_core::edge::http::websocket_response;
use serde_json::{Value, json};

/// Needs no adapter and no configuration.
pub struct WsDefault;

impl Function for WsDefault {
    const NAME: &'static str = env!("CARGO_PKG_NAME");
    type Trigger = WebSocket;

    async fn build(_settings: &Settings) -> Result<Self, ConfigError> {
        Ok(WsDefault)
    }
}

#[async_trait]
impl WebSocketFunction for WsDefault {
    async fn handle(&self, request: ApiGatewayWebsocketProxyRequest) -> ApiGatewayProxyResponse {
        reply(&request)
    }
}

/// The answer to one message.
pub fn reply(request: &ApiGatewayWebsocketProxyRequest) -> ApiGatewayProxyResponse {
    let action = request
        .body
        .as_deref()
        .and_then(|body| serde_json::from_str::<Value>(body).ok())
        .and_then(|message| message.get("action").and_then(Value::as_str).map(str::to_owned));
    let reply = match action.as_deref() {
        Some("ping") => json!({"type": "pong"}),
        Some(other) => {
            json!({"type": "error", "error": "unknown_action", "message": format!("Unknown action '{other}'. Send {{\"action\": \"ping\"}}.")})
        }
        None => {
            json!({"type": "error", "error": "invalid_message", "message": "Messages must be JSON objects with an \"action\", such as {\"action\": \"ping\"}."})
        }
    };
    websocket_response(200, Some(reply.to_string()))
}
