//! Tokens and API Gateway requests as Lambda delivers them, for handler tests.

use crate::domain::{Timestamp, Username};

/// The signing secret unit tests use.
pub const TEST_SECRET: &str = "unit-test-secret-unit-test-secret-0123";

pub fn jwt_keys() -> crate::edge::auth::JwtKeys {
    crate::edge::auth::JwtKeys::new(TEST_SECRET.as_bytes(), 3600).expect("the test secret is long enough")
}

pub fn token_for(username: &str) -> String {
    jwt_keys().issue(&Username::parse(username).expect("a valid test username"), Timestamp::now()).token
}

/// An HTTP API request as API Gateway v2 delivers it to Lambda, built into the JSON event
/// and parsed by `lambda_http`, so handlers see exactly what they see in Lambda.
pub struct ApiRequest {
    event: serde_json::Value,
}

impl ApiRequest {
    /// `route` is the API Gateway route key, e.g. `GET /notes/{noteId}`; `path` the real path.
    pub fn new(route: &str, path: &str) -> Self {
        let method = route.split(' ').next().unwrap_or("GET");
        let event = serde_json::json!({
            "version": "2.0",
            "routeKey": route,
            "rawPath": path,
            "rawQueryString": "",
            "headers": {"content-type": "application/json", "host": "api.test"},
            "requestContext": {
                "accountId": "123456789012",
                "apiId": "api",
                "domainName": "api.test",
                "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "test"},
                "requestId": format!("req-{}", uuid::Uuid::new_v4().simple()),
                "routeKey": route,
                "stage": "$default",
                "time": "23/Nov/2026:10:15:30 +0000",
                "timeEpoch": 1_795_428_930_123i64
            },
            "isBase64Encoded": false
        });
        Self { event }
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.event["headers"][name.to_ascii_lowercase()] = value.into();
        self
    }

    pub fn bearer(self, username: &str) -> Self {
        let token = token_for(username);
        self.header("authorization", &format!("Bearer {token}"))
    }

    pub fn body(mut self, body: &str) -> Self {
        self.event["body"] = body.into();
        self
    }

    pub fn json(self, body: serde_json::Value) -> Self {
        self.body(&body.to_string())
    }

    pub fn path_param(mut self, name: &str, value: &str) -> Self {
        self.event["pathParameters"][name] = value.into();
        self
    }

    pub fn query(mut self, name: &str, value: &str) -> Self {
        self.event["queryStringParameters"][name] = value.into();
        let raw = self.event["queryStringParameters"]
            .as_object()
            .map(|q| {
                q.iter().map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default())).collect::<Vec<_>>().join("&")
            })
            .unwrap_or_default();
        self.event["rawQueryString"] = raw.into();
        self
    }

    pub fn request_id(&self) -> String {
        self.event["requestContext"]["requestId"].as_str().unwrap_or_default().to_owned()
    }

    pub fn build(self) -> lambda_http::Request {
        lambda_http::request::from_str(&self.event.to_string()).expect("a well-formed API Gateway v2 event")
    }
}

/// A response's status and JSON body (`Null` when empty).
pub fn read_response(response: lambda_http::Response<lambda_http::Body>) -> (u16, serde_json::Value) {
    let status = response.status().as_u16();
    let bytes: &[u8] = response.body().as_ref();
    let body =
        if bytes.is_empty() { serde_json::Value::Null } else { serde_json::from_slice(bytes).expect("JSON body") };
    (status, body)
}

/// An SQS record as Lambda delivers it, on its first receive.
pub fn sqs_record(id: &str, body: String) -> aws_lambda_events::event::sqs::SqsMessage {
    let mut message = aws_lambda_events::event::sqs::SqsMessage::default();
    message.message_id = Some(id.into());
    message.body = Some(body);
    message.attributes.insert("ApproximateReceiveCount".into(), "1".into());
    message
}

/// A batch of SQS records, as an event source mapping hands it over.
pub fn sqs_batch(records: Vec<aws_lambda_events::event::sqs::SqsMessage>) -> aws_lambda_events::event::sqs::SqsEvent {
    let mut event = aws_lambda_events::event::sqs::SqsEvent::default();
    event.records = records;
    event
}

/// One HTTP function under test, built on an in-memory table and bus that the test reads back:
/// the world every HTTP function's tests share.
pub struct HttpWorld<F> {
    pub table: std::sync::Arc<super::InMemoryTable>,
    pub bus: std::sync::Arc<super::RecordingPublisher>,
    pub app: F,
}

impl<F: crate::edge::function::HttpFunction> HttpWorld<F> {
    /// The function as `build` makes it from a new table and bus.
    pub fn new(
        build: impl FnOnce(std::sync::Arc<super::InMemoryTable>, std::sync::Arc<super::RecordingPublisher>) -> F,
    ) -> Self {
        let table = std::sync::Arc::new(super::InMemoryTable::new());
        let bus = std::sync::Arc::new(super::RecordingPublisher::new());
        let app = build(table.clone(), bus.clone());
        HttpWorld { table, bus, app }
    }
}

/// Sends `request` to the world's function, as API Gateway would; its status and JSON body.
pub async fn send<F: crate::edge::function::HttpFunction>(
    world: &HttpWorld<F>,
    request: ApiRequest,
) -> (u16, serde_json::Value) {
    read_response(world.app.handle(request.build()).await)
}
