//! WebSocket `$connect`: the client offers two subprotocols in `Sec-WebSocket-Protocol`,
//! `notes.v1` and `bearer.<JWT>` ([`websocket_protocols`]). The JWT is verified (HS256 pinned,
//! signature and expiry); a missing, forged or expired token, or one anywhere else (the query
//! string included), refuses the handshake with 401 and writes nothing. A token offered without
//! `notes.v1` is refused with 400: the answer must select a subprotocol the client offered, and
//! the token is never sent back. A user with [`MAX_CONNECTIONS_PER_USER`] open connections
//! already is refused with 429 and nothing is written. The count is a strongly consistent read,
//! so handshakes made one after another see each other. Items a `$disconnect` never removed
//! (a lost network, a crashed tab) count until their 2-hour TTL, so when the count is full the
//! oldest items past their handshake are checked with the Management API's `GetConnection`, and
//! those API Gateway calls gone are removed and no longer counted: stale items never lock a user
//! out. Otherwise the connection's items are
//! written with a 2-hour TTL (API Gateway's limit) and the answer selects `notes.v1`
//! (`Sec-WebSocket-Protocol: notes.v1`), without which a browser fails the handshake.
//!
//! [`websocket_protocols`]: notes_core::edge::http::websocket_protocols

use std::sync::Arc;

use async_trait::async_trait;
use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use notes_core::domain::Timestamp;
use notes_core::edge::auth::JwtKeys;
use notes_core::edge::config::ConfigError;
use notes_core::edge::function::{Function, Settings, WebSocket, WebSocketFunction};
use notes_core::edge::http::{
    WEBSOCKET_BEARER_PREFIX, WEBSOCKET_SUBPROTOCOL, offered_subprotocols, websocket_response,
};
use notes_core::ports::push::HANDSHAKE_WINDOW_SECONDS;
use notes_core::ports::{Connection, ConnectionPusher, ConnectionStore};

/// API Gateway closes a WebSocket connection after 2 hours at most.
pub const CONNECTION_LIFETIME_SECONDS: i64 = 2 * 3600;

/// Open connections one user may hold: a person's tabs and devices, not a way for one account to
/// make every public note cost thousands of pushes. The check reads the user's connections first,
/// so handshakes racing each other can pass it together: the excess is bounded by how many race.
pub const MAX_CONNECTIONS_PER_USER: usize = 10;

pub struct Connect {
    keys: JwtKeys,
    connections: Arc<dyn ConnectionStore>,
    api: Arc<dyn ConnectionPusher>,
}

impl Connect {
    pub fn new(keys: JwtKeys, connections: Arc<dyn ConnectionStore>, api: Arc<dyn ConnectionPusher>) -> Self {
        Self { keys, connections, api }
    }

    /// How many of `open` are open: oldest first, the items past their handshake are asked for
    /// until the count is under the cap, and those gone are removed.
    async fn still_open(&self, mut open: Vec<Connection>) -> Result<usize, String> {
        open.sort_by_key(|c| c.connected_at);
        let mut count = open.len();
        let settled = Timestamp::now().epoch_seconds() - HANDSHAKE_WINDOW_SECONDS;
        for connection in open.iter().filter(|c| c.connected_at.epoch_seconds() < settled) {
            if count < MAX_CONNECTIONS_PER_USER {
                break;
            }
            if !self.api.is_open(&connection.connection_id).await.map_err(|e| e.to_string())? {
                self.connections.remove(&connection.connection_id).await.map_err(|e| e.to_string())?;
                tracing::info!(stale = %connection.connection_id, "a connection gone without $disconnect was removed");
                count -= 1;
            }
        }
        Ok(count)
    }
}

impl Function for Connect {
    const NAME: &'static str = env!("CARGO_PKG_NAME");
    type Trigger = WebSocket;

    async fn build(settings: &Settings) -> Result<Self, ConfigError> {
        Ok(Self::new(settings.jwt_keys().await?, settings.connections()?, settings.pusher()?))
    }
}

#[async_trait]
impl WebSocketFunction for Connect {
    async fn handle(&self, request: ApiGatewayWebsocketProxyRequest) -> ApiGatewayProxyResponse {
        let context = &request.request_context;
        let connection_id = context.connection_id.clone().unwrap_or_default();
        let span = tracing::info_span!("connect", connectionId = %connection_id, requestId = context.request_id.as_deref().unwrap_or_default());
        let _entered = span.enter();

        let offered = offered_subprotocols(&request.headers, &request.multi_value_headers);
        let token = offered.iter().find_map(|p| p.strip_prefix(WEBSOCKET_BEARER_PREFIX)).unwrap_or_default();
        let Ok(username) = self.keys.verify(token) else {
            tracing::info!("handshake refused: missing or invalid token");
            return websocket_response(401, None);
        };
        if !offered.contains(&WEBSOCKET_SUBPROTOCOL) {
            tracing::info!("handshake refused: the {WEBSOCKET_SUBPROTOCOL} subprotocol was not offered");
            return websocket_response(400, None);
        }
        if connection_id.is_empty() {
            return websocket_response(400, None);
        }
        let counted = match self.connections.of_user(&username).await {
            Ok(open) if open.len() >= MAX_CONNECTIONS_PER_USER => self.still_open(open).await,
            Ok(open) => Ok(open.len()),
            Err(err) => Err(err.to_string()),
        };
        match counted {
            Ok(open) if open >= MAX_CONNECTIONS_PER_USER => {
                tracing::info!(username = %username, open, "handshake refused: too many open connections");
                return websocket_response(429, None);
            }
            Ok(_) => {}
            Err(err) => {
                tracing::error!(error = %err, "open connections could not be counted");
                return websocket_response(500, None);
            }
        }
        let connected_at = Timestamp::from_epoch_millis(context.connected_at)
            .filter(|_| context.connected_at > 0)
            .unwrap_or_else(Timestamp::now);
        let connection = Connection {
            connection_id,
            username,
            connected_at,
            expires_at: connected_at.plus_seconds(CONNECTION_LIFETIME_SECONDS),
        };
        match self.connections.add(&connection).await {
            Ok(()) => {
                tracing::info!(username = %connection.username, "connected");
                let mut response = websocket_response(200, None);
                response.headers.insert(
                    http::header::SEC_WEBSOCKET_PROTOCOL,
                    http::HeaderValue::from_static(WEBSOCKET_SUBPROTOCOL),
                );
                response
            }
            Err(err) => {
                tracing::error!(error = %err, "connection could not be recorded");
                websocket_response(500, None)
            }
        }
    }
}
