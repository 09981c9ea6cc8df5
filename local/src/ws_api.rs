//! The WebSocket API and its Management API, as API Gateway runs them.
//!
//! - A WebSocket handshake becomes a `$connect` event (query string, headers, `Sec-WebSocket-Protocol`
//!   among them, `connectionId`, `connectedAt`, `requestTimeEpoch`) for the `connect` handler; an
//!   answer other than 200 refuses the handshake with that status, and the socket is never opened.
//!   The `Sec-WebSocket-Protocol` the answer names is sent back in the handshake's response, as
//!   API Gateway does; none is sent when it names none (a client that offered one then fails the
//!   handshake, as a browser does against API Gateway).
//! - Each message becomes a `$default` event for `ws-default`; its answer is sent back (the
//!   route is two-way). A closed socket becomes a `$disconnect` event for `disconnect`.
//! - `POST`, `GET` and `DELETE /@connections/{connectionId}` behave like the Management API,
//!   410 Gone with `x-amzn-ErrorType: GoneException` included, so the real
//!   `aws-sdk-apigatewaymanagement` client in `notify` works against it unchanged.
//! - Like API Gateway, a connection is closed after 10 idle minutes or 2 hours in all.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use aws_lambda_events::encodings::Body as EventBody;
use axum::body::Bytes;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use futures::{SinkExt as _, StreamExt as _};
use http::{HeaderMap, StatusCode, Uri};
use notes_core::domain::Timestamp;
use notes_core::topology::topology;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

use notes_core::edge::function::WebSocketHandler;

use crate::functions::Functions;

pub const IDLE_TIMEOUT: Duration = Duration::from_secs(10 * 60);
pub const MAX_CONNECTION_DURATION: Duration = Duration::from_secs(2 * 3600);

enum Outbound {
    Text(String),
    Close,
}

struct LiveConnection {
    sender: mpsc::UnboundedSender<Outbound>,
    connected_at: Timestamp,
    source_ip: String,
    last_active: Timestamp,
}

pub struct WebSocketApi {
    connect: Arc<dyn WebSocketHandler>,
    disconnect: Arc<dyn WebSocketHandler>,
    default: Arc<dyn WebSocketHandler>,
    live: Mutex<HashMap<String, LiveConnection>>,
}

impl WebSocketApi {
    /// The API with the functions its route keys are declared on.
    pub fn new(functions: &Functions) -> Result<Arc<Self>, String> {
        let route = |key: &str| {
            topology()
                .websocket_function(key)
                .and_then(|name| functions.websocket(name))
                .ok_or_else(|| format!("no function is declared on the WebSocket route {key}"))
        };
        Ok(Arc::new(Self {
            connect: route("$connect")?,
            disconnect: route("$disconnect")?,
            default: route("$default")?,
            live: Mutex::new(HashMap::new()),
        }))
    }

    /// Closes a live connection from the server's side (as a lost network would end it); the
    /// closed socket becomes a `$disconnect`, as any other.
    pub fn close(&self, connection_id: &str) -> bool {
        self.send(connection_id, Outbound::Close)
    }

    fn send(&self, connection_id: &str, message: Outbound) -> bool {
        let mut live = self.live.lock().expect("not poisoned");
        match live.get_mut(connection_id) {
            Some(connection) => connection.sender.send(message).is_ok(),
            None => false,
        }
    }
}

impl crate::faults::ConnectionDropper for WebSocketApi {
    fn drop_connection(&self, connection_id: &str) {
        self.close(connection_id);
    }
}

pub async fn serve(listener: TcpListener, api: Arc<WebSocketApi>) {
    let management = post(post_to_connection).get(get_connection).delete(delete_connection);
    let app = axum::Router::new()
        .route("/@connections/{connection_id}", management.clone())
        .route("/{stage}/@connections/{connection_id}", management)
        .fallback(handshake)
        .with_state(api);
    let service = app.into_make_service_with_connect_info::<SocketAddr>();
    if let Err(err) = axum::serve(listener, service).await {
        tracing::error!(error = %err, "WebSocket API stopped");
    }
}

/// An API Gateway connection id: 16 characters of base64, like `Ka1BccK1oAMCJbw=`.
fn connection_id() -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(&uuid::Uuid::new_v4().as_bytes()[..10])
}

/// The event API Gateway sends to a WebSocket route's Lambda integration.
fn route_event(
    route_key: &str,
    event_type: &str,
    connection_id: &str,
    connected_at: Timestamp,
    source_ip: &str,
) -> Value {
    let now = Timestamp::now();
    json!({
        "requestContext": {
            "routeKey": route_key,
            "eventType": event_type,
            "extendedRequestId": crate::http_api::request_id(),
            "requestTime": now.as_datetime().format("%d/%b/%Y:%H:%M:%S +0000").to_string(),
            "messageDirection": "IN",
            "stage": "local",
            "connectedAt": connected_at.epoch_millis(),
            "requestTimeEpoch": now.epoch_millis(),
            "identity": {"sourceIp": source_ip},
            "requestId": crate::http_api::request_id(),
            "domainName": "127.0.0.1",
            "connectionId": connection_id,
            "apiId": "local",
        },
        "isBase64Encoded": false,
    })
}

fn parse_event(event: Value) -> ApiGatewayWebsocketProxyRequest {
    serde_json::from_value(event).expect("the WebSocket event shape")
}

async fn handshake(
    State(api): State<Arc<WebSocketApi>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    uri: Uri,
    headers: HeaderMap,
    upgrade: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> Response {
    let Ok(upgrade) = upgrade else {
        return (StatusCode::UPGRADE_REQUIRED, "WebSocket connections only").into_response();
    };
    let id = connection_id();
    let connected_at = Timestamp::now();
    let source_ip = peer.ip().to_string();
    let mut event = route_event("$connect", "CONNECT", &id, connected_at, &source_ip);
    let query: HashMap<String, String> = serde_urlencoded::from_str(uri.query().unwrap_or("")).unwrap_or_default();
    if !query.is_empty() {
        event["queryStringParameters"] = json!(query);
        event["multiValueQueryStringParameters"] =
            json!(query.iter().map(|(k, v)| (k.clone(), vec![v.clone()])).collect::<HashMap<_, _>>());
    }
    // As API Gateway passes them: `headers` with a repeated header's values joined by commas,
    // `multiValueHeaders` with each value.
    let mut multi: HashMap<String, Vec<String>> = HashMap::new();
    for (name, value) in &headers {
        if let Ok(value) = value.to_str() {
            multi.entry(name.as_str().to_owned()).or_default().push(value.to_owned());
        }
    }
    let header_map: HashMap<&String, String> = multi.iter().map(|(name, values)| (name, values.join(", "))).collect();
    event["headers"] = json!(header_map);
    event["multiValueHeaders"] = json!(multi);

    let answer = api.connect.call(parse_event(event)).await;
    if answer.status_code != 200 {
        let status =
            StatusCode::from_u16(u16::try_from(answer.status_code).unwrap_or(500)).unwrap_or(StatusCode::FORBIDDEN);
        return status.into_response();
    }
    // Registered before the upgrade completes, so a push that races the handshake is queued
    // rather than answered 410 (which would make notify remove the brand-new connection).
    let (sender, receiver) = mpsc::unbounded_channel();
    api.live.lock().expect("not poisoned").insert(
        id.clone(),
        LiveConnection { sender, connected_at, source_ip: source_ip.clone(), last_active: connected_at },
    );
    let mut response =
        upgrade.on_upgrade(move |socket| run_connection(api, socket, id, connected_at, source_ip, receiver));
    // The subprotocol the function selected, whatever the client offered: API Gateway checks neither.
    let selected = answer.headers.get(http::header::SEC_WEBSOCKET_PROTOCOL);
    if let Some(protocol) = selected.or_else(|| answer.multi_value_headers.get(http::header::SEC_WEBSOCKET_PROTOCOL)) {
        response.headers_mut().insert(http::header::SEC_WEBSOCKET_PROTOCOL, protocol.clone());
    }
    response
}

async fn run_connection(
    api: Arc<WebSocketApi>,
    socket: WebSocket,
    id: String,
    connected_at: Timestamp,
    source_ip: String,
    mut outbound: mpsc::UnboundedReceiver<Outbound>,
) {
    let (mut sink, mut stream) = socket.split();
    let deadline = tokio::time::Instant::now() + MAX_CONNECTION_DURATION;
    let (status, reason) = loop {
        tokio::select! {
            message = outbound.recv() => match message {
                Some(Outbound::Text(text)) => {
                    if sink.send(Message::Text(text.into())).await.is_err() {
                        break (1006, "send failed");
                    }
                }
                Some(Outbound::Close) | None => {
                    let _ = sink.send(Message::Close(None)).await;
                    break (1000, "closed by the Management API");
                }
            },
            incoming = tokio::time::timeout(IDLE_TIMEOUT, stream.next()) => match incoming {
                Err(_) => break (1001, "idle timeout"),
                Ok(None) | Ok(Some(Err(_))) => break (1006, "connection lost"),
                Ok(Some(Ok(Message::Close(_)))) => break (1000, "closed by the client"),
                Ok(Some(Ok(Message::Text(text)))) => {
                    touch(&api, &id);
                    let mut event = route_event("$default", "MESSAGE", &id, connected_at, &source_ip);
                    event["body"] = Value::String(text.to_string());
                    event["requestContext"]["messageId"] = Value::String(crate::http_api::request_id());
                    let reply = api.default.call(parse_event(event)).await;
                    if let Some(text) = reply_text(reply)
                        && sink.send(Message::Text(text.into())).await.is_err()
                    {
                        break (1006, "send failed");
                    }
                }
                Ok(Some(Ok(_))) => touch(&api, &id),
            },
            _ = tokio::time::sleep_until(deadline) => {
                let _ = sink.send(Message::Close(None)).await;
                break (1001, "maximum connection duration");
            }
        }
    };
    api.live.lock().expect("not poisoned").remove(&id);
    let mut event = route_event("$disconnect", "DISCONNECT", &id, connected_at, &source_ip);
    event["requestContext"]["disconnectStatusCode"] = json!(status);
    event["requestContext"]["disconnectReason"] = json!(reason);
    api.disconnect.call(parse_event(event)).await;
}

fn touch(api: &WebSocketApi, id: &str) {
    if let Some(connection) = api.live.lock().expect("not poisoned").get_mut(id) {
        connection.last_active = Timestamp::now();
    }
}

fn reply_text(reply: ApiGatewayProxyResponse) -> Option<String> {
    match reply.body? {
        EventBody::Text(text) => Some(text),
        EventBody::Binary(bytes) => String::from_utf8(bytes).ok(),
        _ => None,
    }
}

fn gone() -> Response {
    let mut response = (StatusCode::GONE, axum::Json(json!({"message": null}))).into_response();
    response.headers_mut().insert("x-amzn-errortype", http::HeaderValue::from_static("GoneException"));
    response
}

async fn post_to_connection(
    State(api): State<Arc<WebSocketApi>>,
    Path(params): Path<HashMap<String, String>>,
    body: Bytes,
) -> Response {
    let id = params.get("connection_id").cloned().unwrap_or_default();
    let text = String::from_utf8_lossy(&body).into_owned();
    if api.send(&id, Outbound::Text(text)) { StatusCode::OK.into_response() } else { gone() }
}

async fn get_connection(State(api): State<Arc<WebSocketApi>>, Path(params): Path<HashMap<String, String>>) -> Response {
    let id = params.get("connection_id").cloned().unwrap_or_default();
    let live = api.live.lock().expect("not poisoned");
    match live.get(&id) {
        Some(c) => axum::Json(json!({
            "connectedAt": c.connected_at.to_string(),
            "identity": {"sourceIp": c.source_ip},
            "lastActiveAt": c.last_active.to_string(),
        }))
        .into_response(),
        None => gone(),
    }
}

async fn delete_connection(
    State(api): State<Arc<WebSocketApi>>,
    Path(params): Path<HashMap<String, String>>,
) -> Response {
    let id = params.get("connection_id").cloned().unwrap_or_default();
    if api.send(&id, Outbound::Close) { StatusCode::NO_CONTENT.into_response() } else { gone() }
}
