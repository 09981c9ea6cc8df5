//! Support for the end-to-end tests: each test starts a whole local stack of its own (its own
//! table, bus and queues, on free ports) and then talks to it only from outside, over HTTP and
//! WebSocket, as a browser would.
//!
//! The stacks share one moto server (SQS, EventBridge) when `AWS_ENDPOINT_URL` names one, and
//! one DynamoDB Local (the table) when `AWS_ENDPOINT_URL_DYNAMODB` does (the test command starts
//! both); otherwise each stack starts its own.

pub mod fanout;
pub mod progress;
pub mod soak;

use std::time::Duration;

use futures::{SinkExt as _, StreamExt as _};
use notes_local::{RunningStack, StackConfig};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::tungstenite::handshake::client::Request;
use tokio_tungstenite::tungstenite::http;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub use notes_core::edge::http::websocket_protocols;
pub use notes_local::faults::TRANSIENT_FAULT_MARKER;

/// How long a test waits for something that should happen.
pub const PATIENCE: Duration = Duration::from_secs(20);

pub struct Stack {
    pub running: RunningStack,
    pub http: reqwest::Client,
}

/// The emulator endpoint the test command exported in `variable`, if any.
pub fn env_endpoint(variable: &str) -> Option<String> {
    std::env::var(variable).ok().filter(|v| !v.is_empty())
}

/// The SDK configuration for the emulators the test command started: moto at
/// `AWS_ENDPOINT_URL`, DynamoDB Local at `AWS_ENDPOINT_URL_DYNAMODB`.
pub async fn shared_emulators() -> aws_config::SdkConfig {
    let moto = env_endpoint("AWS_ENDPOINT_URL")
        .expect("AWS_ENDPOINT_URL must name a moto server: run `make test`, which starts one");
    let dynamodb = env_endpoint("AWS_ENDPOINT_URL_DYNAMODB")
        .expect("AWS_ENDPOINT_URL_DYNAMODB must name a DynamoDB Local: run `make test`, which starts one");
    notes_local::emulator_sdk_config(&moto, &dynamodb).await
}

pub fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", &uuid::Uuid::new_v4().simple().to_string()[..8])
}

impl Stack {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// Starts a stack on free ports; `adjust` changes the configuration first.
    pub async fn start_with(adjust: impl FnOnce(&mut StackConfig)) -> Self {
        // `NOTES_TEST_LOG=warn` (an env filter) shows the stacks' logs, for a test that fails.
        if let Ok(filter) = std::env::var("NOTES_TEST_LOG") {
            let _ = tracing_subscriber::fmt().with_env_filter(filter).with_test_writer().try_init();
        }
        let mut config = StackConfig {
            http_port: 0,
            ws_port: 0,
            frontend_port: 0,
            aws_endpoint: env_endpoint("AWS_ENDPOINT_URL"),
            dynamodb_endpoint: env_endpoint("AWS_ENDPOINT_URL_DYNAMODB"),
            prefix: unique("e2e"),
            ..StackConfig::default()
        };
        adjust(&mut config);
        let running = notes_local::start(config).await.expect("the local stack starts");
        Self { running, http: reqwest::Client::new() }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.running.http_url())
    }

    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = self.http.request(method, self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("the HTTP API answers");
        let status = response.status().as_u16();
        let text = response.text().await.unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// Signs a new user up and logs in; returns the token.
    pub async fn user(&self, username: &str) -> String {
        let credentials = json!({"username": username, "password": "correct horse battery"});
        let (status, body) = self.call(reqwest::Method::POST, "/auth/signup", None, Some(credentials.clone())).await;
        assert_eq!(status, 201, "signup: {body}");
        let (status, body) = self.call(reqwest::Method::POST, "/auth/login", None, Some(credentials)).await;
        assert_eq!(status, 200, "login: {body}");
        body["token"].as_str().expect("a token").to_owned()
    }

    pub async fn post_note(&self, token: &str, content: &str, is_public: bool) -> String {
        let (status, body) = self
            .call(
                reqwest::Method::POST,
                "/notes",
                Some(token),
                Some(json!({"content": content, "isPublic": is_public})),
            )
            .await;
        assert_eq!(status, 202, "POST /notes: {body}");
        body["noteId"].as_str().expect("a noteId").to_owned()
    }

    /// Opens a WebSocket as the app does, offering `notes.v1` and `bearer.<token>`;
    /// `Err(status)` when the handshake is refused.
    pub async fn websocket(&self, token: &str) -> Result<Socket, u16> {
        self.websocket_offering("", Some(&websocket_protocols(token))).await
    }

    /// A handshake to `/{query}` offering `protocols` (`Sec-WebSocket-Protocol`), if any;
    /// `Err(status)` when it is refused.
    pub async fn websocket_offering(&self, query: &str, protocols: Option<&str>) -> Result<Socket, u16> {
        let request = websocket_request(&format!("{}/{query}", self.running.ws_url()), protocols);
        match tokio_tungstenite::connect_async(request).await {
            Ok((stream, response)) => {
                let protocol = response
                    .headers()
                    .get(http::header::SEC_WEBSOCKET_PROTOCOL)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                Ok(Socket { stream, protocol })
            }
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => Err(response.status().as_u16()),
            Err(other) => panic!("WebSocket handshake failed: {other}"),
        }
    }

    /// A fresh user with an open, ready WebSocket.
    pub async fn connected_user(&self, name: &str) -> (String, Socket) {
        let token = self.user(&unique(name)).await;
        let mut socket = self.websocket(&token).await.expect("the handshake is accepted");
        socket.ping().await;
        (token, socket)
    }
}

/// A handshake request to `url`, offering `protocols` in `Sec-WebSocket-Protocol` if any.
/// (tungstenite then checks, as a browser does, that the answer selects one of them.)
pub fn websocket_request(url: &str, protocols: Option<&str>) -> Request {
    let mut request = url.into_client_request().expect("a WebSocket URL");
    if let Some(protocols) = protocols {
        request
            .headers_mut()
            .insert(http::header::SEC_WEBSOCKET_PROTOCOL, protocols.parse().expect("subprotocols are header-safe"));
    }
    request
}

pub struct Socket {
    stream: WebSocketStream<MaybeTlsStream<TcpStream>>,
    /// The subprotocol the handshake's answer selected.
    pub protocol: Option<String>,
}

impl Socket {
    pub async fn send(&mut self, message: Value) {
        self.stream.send(Message::Text(message.to_string().into())).await.expect("sent");
    }

    /// The next JSON message, or `None` if nothing comes within `wait`.
    pub async fn next_within(&mut self, wait: Duration) -> Option<Value> {
        loop {
            match tokio::time::timeout(wait, self.stream.next()).await {
                Err(_) | Ok(None) => return None,
                Ok(Some(Ok(Message::Text(text)))) => {
                    return Some(serde_json::from_str(&text).expect("JSON messages"));
                }
                Ok(Some(Ok(_))) => continue,
                Ok(Some(Err(err))) => panic!("WebSocket error: {err}"),
            }
        }
    }

    /// Waits for the event of `event_type` about `note_id`, skipping others.
    pub async fn expect_event(&mut self, event_type: &str, note_id: &str) -> Value {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let Some(message) = self.next_within(left).await else {
                panic!("no {event_type} for {note_id} within {PATIENCE:?}");
            };
            if message["eventType"] == event_type && message["noteId"] == note_id {
                return message;
            }
        }
    }

    /// Asserts that no message about `note_id` arrives within `wait`.
    pub async fn expect_nothing_about(&mut self, note_id: &str, wait: Duration) {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.next_within(left).await {
                None => return,
                Some(message) if message["noteId"] == note_id => {
                    panic!("unexpected message {message}")
                }
                Some(_) => continue,
            }
        }
    }

    /// A ping round trip: proves the connection is open and registered.
    pub async fn ping(&mut self) {
        self.send(json!({"action": "ping"})).await;
        let reply = self.next_within(PATIENCE).await.expect("a pong");
        assert_eq!(reply, json!({"type": "pong"}));
    }
}
