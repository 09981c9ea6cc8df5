//! The HTTP edge: reading API Gateway v2 requests (through `lambda_http`) and writing responses.
//! Handlers call these so every route parses bodies, tokens and ids the same way.

use http::StatusCode;
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::domain::MAX_BODY_BYTES;
use crate::edge::error::ApiError;

/// A JSON object body, read with errors that name the field.
#[derive(Debug)]
pub struct JsonObject(Map<String, Value>);

impl JsonObject {
    /// Size first (413), then UTF-8 and JSON (400), then "is an object" (400).
    pub fn from_request(req: &Request) -> Result<Self, ApiError> {
        let bytes: &[u8] = req.body().as_ref();
        if bytes.len() > MAX_BODY_BYTES {
            return Err(ApiError::PayloadTooLarge { limit: MAX_BODY_BYTES });
        }
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(ApiError::invalid("the request body must be a JSON object"));
        }
        let value: Value = serde_json::from_slice(bytes)
            .map_err(|e| ApiError::invalid(format!("the request body is not valid JSON ({e})")))?;
        match value {
            Value::Object(map) => Ok(Self(map)),
            _ => Err(ApiError::invalid("the request body must be a JSON object")),
        }
    }

    /// A string that must be there: missing is 400 `{field} is required`; `null` or another type
    /// is 400 `{field} must be a string…`.
    pub fn required_string(&self, field: &str) -> Result<String, ApiError> {
        match self.0.get(field) {
            None => Err(ApiError::invalid(format!("{field} is required"))),
            Some(Value::String(s)) => Ok(s.clone()),
            Some(other) => Err(wrong_type(field, "must be a string", other)),
        }
    }

    /// A string that may be left out. `null` is not "left out": it is a wrong type, 400 naming the
    /// field, as any other (so `{"content": null, "isPublic": true}` changes nothing).
    pub fn optional_string(&self, field: &str) -> Result<Option<String>, ApiError> {
        match self.0.get(field) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(wrong_type(field, "must be a string", other)),
        }
    }

    /// A boolean that may be left out; `null` or another type is 400 naming the field (so
    /// `{"isPublic": null}` is not a private note).
    pub fn optional_bool(&self, field: &str) -> Result<Option<bool>, ApiError> {
        match self.0.get(field) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(other) => Err(wrong_type(field, "must be true or false", other)),
        }
    }
}

/// `{field} {rule}`, saying so when the value was `null` (which reads like "absent" to some clients).
fn wrong_type(field: &str, rule: &str, value: &Value) -> ApiError {
    match value {
        Value::Null => ApiError::invalid(format!("{field} {rule}, not null; leave it out instead")),
        _ => ApiError::invalid(format!("{field} {rule}")),
    }
}

/// The token of `Authorization: Bearer <token>`, if the header has that form.
pub fn bearer_token(req: &Request) -> Option<&str> {
    let value = req.headers().get(http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    (scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty()).then(|| token.trim())
}

pub fn header<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

pub fn path_param(req: &Request, name: &str) -> Option<String> {
    req.path_parameters_ref().and_then(|p| p.first(name)).map(str::to_owned)
}

pub fn query_param(req: &Request, name: &str) -> Option<String> {
    req.query_string_parameters_ref().and_then(|q| q.first(name)).map(str::to_owned)
}

/// API Gateway's id of this request: the `correlationId` of every event the request causes.
pub fn api_request_id(req: &Request) -> String {
    match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(ctx)) => ctx.request_id.clone(),
        Some(RequestContext::WebSocket(ctx)) => ctx.request_id.clone(),
        _ => None,
    }
    .filter(|id| !id.is_empty())
    .unwrap_or_else(|| crate::domain::simulation::uuid_v4().to_string())
}

pub fn json_response<T: Serialize>(status: StatusCode, body: &T) -> Response<Body> {
    let text = serde_json::to_string(body).expect("response bodies always serialize");
    Response::builder()
        .status(status)
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(Body::Text(text))
        .expect("a static response is well formed")
}

pub fn empty_response(status: StatusCode) -> Response<Body> {
    Response::builder().status(status).body(Body::Empty).expect("a static response is well formed")
}

pub fn error_response(err: &ApiError) -> Response<Body> {
    json_response(err.status(), &err.body())
}

/// Turns a handler's result into the response API Gateway returns, logging 5xx causes.
pub fn respond(result: Result<Response<Body>, ApiError>) -> Response<Body> {
    match result {
        Ok(response) => response,
        Err(err) => {
            if err.status().is_server_error() {
                tracing::error!(code = err.code(), "request failed");
            } else {
                tracing::info!(code = err.code(), status = err.status().as_u16(), "request refused");
            }
            error_response(&err)
        }
    }
}

/// The caller named by a valid bearer token; 401 for a missing, forged or expired one.
pub fn authenticate(keys: &crate::edge::auth::JwtKeys, req: &Request) -> Result<crate::domain::Username, ApiError> {
    let token = bearer_token(req).ok_or(ApiError::Unauthorized)?;
    keys.verify(token).map_err(|_| ApiError::Unauthorized)
}

/// A response to a WebSocket route (`$connect`, `$disconnect`, `$default`). For `$connect`, a
/// status other than 2xx refuses the handshake; for a two-way `$default`, the body is sent back.
pub fn websocket_response(status: u16, body: Option<String>) -> aws_lambda_events::apigw::ApiGatewayProxyResponse {
    let mut response = aws_lambda_events::apigw::ApiGatewayProxyResponse::default();
    response.status_code = i64::from(status);
    response.body = body.map(aws_lambda_events::encodings::Body::Text);
    response
}

/// The WebSocket subprotocol of the notes API. A client offers it in `Sec-WebSocket-Protocol`
/// together with its token, and `$connect` selects it: the handshake's answer names it, or a
/// browser fails the handshake.
pub const WEBSOCKET_SUBPROTOCOL: &str = "notes.v1";

/// The offered subprotocol that carries the token: `bearer.<JWT>`. A JWT is base64url and dots,
/// which are all HTTP token characters, so it is a valid subprotocol name as it is.
pub const WEBSOCKET_BEARER_PREFIX: &str = "bearer.";

/// The `Sec-WebSocket-Protocol` request header of a client holding `token`: what the app offers.
pub fn websocket_protocols(token: &str) -> String {
    format!("{WEBSOCKET_SUBPROTOCOL}, {WEBSOCKET_BEARER_PREFIX}{token}")
}

/// The subprotocols a handshake offers, in order: every `Sec-WebSocket-Protocol` value of
/// `headers` and then of `multi_value_headers` (API Gateway fills both), split at commas.
pub fn offered_subprotocols<'a>(
    headers: &'a http::HeaderMap,
    multi_value_headers: &'a http::HeaderMap,
) -> Vec<&'a str> {
    let mut offered: Vec<&str> = Vec::new();
    for map in [headers, multi_value_headers] {
        for value in map.get_all(http::header::SEC_WEBSOCKET_PROTOCOL) {
            for protocol in value.to_str().unwrap_or_default().split(',').map(str::trim) {
                if !protocol.is_empty() && !offered.contains(&protocol) {
                    offered.push(protocol);
                }
            }
        }
    }
    offered
}

/// The `{noteId}` path parameter. A malformed id names no note: the same 404 as an unknown one.
pub fn note_id_param(req: &Request) -> Result<crate::domain::NoteId, ApiError> {
    path_param(req, "noteId").and_then(|raw| crate::domain::NoteId::parse(&raw).ok()).ok_or(ApiError::NotFound)
}

/// Lambda's limit on a synchronous invocation's response, API Gateway's included: a function
/// answering more fails, and API Gateway answers its caller with a 5xx.
pub const MAX_LAMBDA_RESPONSE_BYTES: usize = 6 * 1024 * 1024;

/// The bytes `text` takes once written as a JSON string's contents, as Lambda writes a response
/// body inside its JSON envelope: quotes and backslashes doubled, control characters escaped.
pub fn json_string_len(text: &str) -> usize {
    text.chars()
        .map(|c| match c {
            '"' | '\\' | '\n' | '\r' | '\t' | '\u{8}' | '\u{c}' => 2,
            c if (c as u32) < 0x20 => 6,
            c => c.len_utf8(),
        })
        .sum()
}
