//! The HTTP API, as API Gateway (HTTP API, payload format 2.0) runs it: its router is built from
//! the HTTP routes the functions declare in `shared/topology.json` (axum matches `{noteId}` paths,
//! literal segments first, as API Gateway does); each request is turned into the API Gateway v2
//! event Lambda would receive (request id, route key, path parameters, query string, headers, body and its
//! base64 flag), parsed by `lambda_http` exactly as in Lambda, and given to the function's
//! handler. CORS is answered here from the allowed origins, as API Gateway's CORS setting does.
//!
//! Whatever a client sends, it gets an answer in the contract's error shape: a request API
//! Gateway would refuse (unknown route or method, bad percent-encoding, headers over 10 KB, a
//! body over 10 MB, a request `lambda_http` cannot read) is a 4xx JSON error, and a handler that
//! panics is logged with the request id and answered `500` JSON; the server keeps serving.

use std::future::Future;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodFilter, on};
use futures::FutureExt as _;
use http::{HeaderValue, Method, StatusCode, header};
use notes_core::topology::{HttpRoute, topology};
use serde_json::json;
use tokio::net::TcpListener;

use notes_core::edge::function::HttpHandler;
use notes_core::edge::http::{MAX_LAMBDA_RESPONSE_BYTES, json_string_len};

use crate::functions::Functions;

mod event;

use event::lambda_request;
pub use event::{RouteMatch, api_gateway_event, request_id};

/// API Gateway's payload limit for HTTP APIs.
const MAX_PAYLOAD_BYTES: usize = 10 * 1024 * 1024;
/// API Gateway's limit on the request line and header values of an HTTP API request together.
const MAX_HEADER_BYTES: usize = 10 * 1024;

/// What every request passes through, whatever its route.
struct Gateway {
    allowed_origins: Vec<String>,
}

/// Headers hyper reads before it refuses a request on its own (with a bare 431). Far above what
/// fits in API Gateway's 10 KB, so that limit, answered in the contract's shape, comes first.
const MAX_HEADER_COUNT: usize = 4096;

/// Serves the HTTP API: each connection through hyper with [`MAX_HEADER_COUNT`], each request
/// through [`router`].
pub async fn serve(listener: TcpListener, functions: Arc<Functions>, allowed_origins: Vec<String>) {
    let app = router(&functions, allowed_origins);
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(err) => {
                tracing::warn!(error = %err, "accept failed");
                continue;
            }
        };
        let app = app.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request: http::Request<hyper::body::Incoming>| {
                let mut request = request.map(axum::body::Body::new);
                request.extensions_mut().insert(ConnectInfo(peer));
                tower::ServiceExt::oneshot(app.clone(), request)
            });
            let mut http1 = hyper::server::conn::http1::Builder::new();
            http1.max_headers(MAX_HEADER_COUNT);
            if let Err(err) = http1.serve_connection(hyper_util::rt::TokioIo::new(stream), service).await {
                tracing::debug!(error = %err, "connection ended with an error");
            }
        });
    }
}

/// The router: one route per declared HTTP function, invoking it as API Gateway would; behind
/// them, API Gateway's own answers (404, 405) in the contract's shape; around them, the limits
/// and CORS of [`gateway`].
pub fn router(functions: &Functions, allowed_origins: Vec<String>) -> axum::Router {
    let mut router = axum::Router::new();
    for (name, route) in topology().http_routes() {
        let function = functions.http(name).unwrap_or_else(|| panic!("the declared function {name} is not built"));
        let filter = MethodFilter::try_from(
            Method::from_bytes(route.method.as_bytes()).expect("declared methods are HTTP methods"),
        )
        .expect("declared methods are routable");
        let route = route.clone();
        router = router.route(
            &route.path.clone(),
            on(filter, move |ConnectInfo(peer): ConnectInfo<SocketAddr>, request: axum::extract::Request| {
                invoke(function.clone(), route.clone(), peer, request)
            }),
        );
    }
    router
        .fallback(|| async { gateway_error(StatusCode::NOT_FOUND, "not_found", "No route matches this request.") })
        .method_not_allowed_fallback(|method: Method, uri: http::Uri| async move {
            gateway_error(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                &format!("{method} is not allowed on {}.", uri.path()),
            )
        })
        .layer(middleware::from_fn_with_state(Arc::new(Gateway { allowed_origins }), gateway))
}
/// An error answered by the API itself, before or around a handler, in the contract's shape.
fn gateway_error(status: StatusCode, code: &str, message: &str) -> Response {
    (status, axum::Json(json!({ "error": code, "message": message }))).into_response()
}

/// Runs a handler; a panic inside it is logged with the request id and answered 500, as the
/// function's own failure, never as a dropped connection.
pub async fn guarded<F>(request_id: &str, handler: F) -> Response
where
    F: Future<Output = lambda_http::Response<lambda_http::Body>>,
{
    match AssertUnwindSafe(handler).catch_unwind().await {
        Ok(response) if lambda_response_bytes(&response) > MAX_LAMBDA_RESPONSE_BYTES => {
            // Lambda refuses to return it (Function.ResponseSizeTooLarge), and API Gateway
            // answers the caller with a 5xx.
            tracing::error!(requestId = request_id, "the function's response is over Lambda's 6 MB");
            gateway_error(StatusCode::INTERNAL_SERVER_ERROR, "internal_error", "Something went wrong on our side.")
        }
        Ok(response) => into_axum(response),
        Err(panic) => {
            let reason = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            tracing::error!(requestId = request_id, reason, "the handler panicked");
            gateway_error(StatusCode::INTERNAL_SERVER_ERROR, "internal_error", "Something went wrong on our side.")
        }
    }
}

/// The request line and header values together, as API Gateway counts them against its limit.
fn header_bytes(request: &axum::extract::Request) -> usize {
    let request_line = request.method().as_str().len() + request.uri().to_string().len() + " HTTP/1.1".len();
    request_line + request.headers().iter().map(|(name, value)| name.as_str().len() + value.len()).sum::<usize>()
}

/// What API Gateway does around every route: its size limit on the request line and headers,
/// CORS preflights answered from the allowed origins, and CORS headers on every answer.
async fn gateway(State(gateway): State<Arc<Gateway>>, request: axum::extract::Request, next: Next) -> Response {
    let origin = request.headers().get(header::ORIGIN).and_then(|o| o.to_str().ok()).map(str::to_owned);
    let allowed = origin.as_ref().filter(|o| gateway.allowed_origins.iter().any(|a| a == *o)).cloned();
    if request.method() == Method::OPTIONS && request.headers().contains_key(header::ACCESS_CONTROL_REQUEST_METHOD) {
        return preflight(allowed);
    }
    let mut response = if header_bytes(&request) > MAX_HEADER_BYTES {
        gateway_error(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "request_header_fields_too_large",
            "The request line and headers are larger than 10 KB.",
        )
    } else {
        next.run(request).await
    };
    if let Some(origin) = allowed {
        let headers = response.headers_mut();
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_str(&origin).expect("a header value"));
        headers.insert(header::VARY, HeaderValue::from_static("origin"));
    }
    response
}

fn preflight(origin: Option<String>) -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    if let Some(origin) = origin {
        let headers = response.headers_mut();
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_str(&origin).expect("a header value"));
        headers.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("GET,POST,PUT,DELETE,OPTIONS"));
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("authorization,content-type,idempotency-key"),
        );
        headers.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
        headers.insert(header::VARY, HeaderValue::from_static("origin"));
    }
    response
}

/// One request to `function` through `route`, as API Gateway invokes a Lambda integration.
async fn invoke(
    function: Arc<dyn HttpHandler>,
    route: HttpRoute,
    peer: SocketAddr,
    request: axum::extract::Request,
) -> Response {
    let (parts, body) = request.into_parts();
    let path = parts.uri.path().to_owned();
    let Some(matched) = RouteMatch::of(&route, &path) else {
        return gateway_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "The path is not valid percent-encoded UTF-8.",
        );
    };
    let body: Bytes = match axum::body::to_bytes(body, MAX_PAYLOAD_BYTES).await {
        Ok(bytes) => bytes,
        Err(_) => {
            return gateway_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "The request body is larger than 10 MB.",
            );
        }
    };
    let raw_query = parts.uri.query().unwrap_or("");
    let event =
        api_gateway_event(&matched, &parts.method, &path, raw_query, &parts.headers, &body, &peer.ip().to_string());
    let request_id = event["requestContext"]["requestId"].as_str().unwrap_or_default().to_owned();
    let Some(lambda_request) = lambda_request(&event) else {
        tracing::info!(requestId = request_id, "a request lambda_http cannot read was refused");
        return gateway_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "The request could not be read: a header or the query string is malformed.",
        );
    };
    guarded(&request_id, function.call(lambda_request)).await
}
/// A response's size as Lambda returns it to API Gateway: the body as a JSON string (or base64)
/// inside the envelope, with its headers.
fn lambda_response_bytes(response: &lambda_http::Response<lambda_http::Body>) -> usize {
    let body = match response.body() {
        lambda_http::Body::Text(text) => json_string_len(text),
        lambda_http::Body::Binary(bytes) => bytes.len().div_ceil(3) * 4,
        _ => 0,
    };
    let headers: usize = response.headers().iter().map(|(k, v)| k.as_str().len() + v.len() + 6).sum();
    body + headers + 64
}

fn into_axum(response: lambda_http::Response<lambda_http::Body>) -> Response {
    let (parts, body) = response.into_parts();
    let bytes: Vec<u8> = match body {
        lambda_http::Body::Empty => Vec::new(),
        lambda_http::Body::Text(text) => text.into_bytes(),
        lambda_http::Body::Binary(bytes) => bytes,
        _ => Vec::new(),
    };
    Response::from_parts(parts, axum::body::Body::from(bytes))
}
#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_response_over_lambdas_6_mb_is_answered_as_api_gateway_does_and_one_under_it_passes() {
        let body = |bytes: usize| serde_json::json!({ "text": "x".repeat(bytes) }).to_string();
        let over = lambda_http::Response::new(lambda_http::Body::Text(body(MAX_LAMBDA_RESPONSE_BYTES)));
        let response = guarded("req-1", async { over }).await;
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let under = lambda_http::Response::new(lambda_http::Body::Text(body(MAX_LAMBDA_RESPONSE_BYTES - 1024)));
        assert_eq!(guarded("req-2", async { under }).await.status(), StatusCode::OK);
    }

    #[tokio::test]
    async fn a_panicking_handler_is_answered_500_json() {
        let response = guarded("req-1", async { panic!("boom") }).await;
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = axum::body::to_bytes(response.into_body(), 1024).await.unwrap();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["error"], "internal_error");
        assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
}
