//! Malformed requests to the local HTTP API: each gets a 4xx JSON error in the contract's shape
//! (`{"error", "message"}`), and the server keeps serving. Sent over a raw TCP socket, because
//! HTTP clients refuse to send most of these.

use notes_e2e::Stack;
use serde_json::Value;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

/// Sends `head` (request line and headers, without the blank line) and `body`; returns the
/// status and the JSON body of the answer.
async fn raw(stack: &Stack, head: &str, body: &[u8]) -> (u16, Value) {
    let mut socket = TcpStream::connect(stack.running.http_addr).await.expect("the HTTP API listens");
    let mut request = format!("{head}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len()).into_bytes();
    request.extend_from_slice(body);
    socket.write_all(&request).await.expect("sent");
    let mut answer = Vec::new();
    socket.read_to_end(&mut answer).await.expect("an answer, not a dropped connection");
    let text = String::from_utf8_lossy(&answer);
    let (headers, body) = text.split_once("\r\n\r\n").unwrap_or_else(|| panic!("no answer at all: {text:?}"));
    let status = headers.split(' ').nth(1).and_then(|s| s.parse().ok()).expect("a status line");
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

fn assert_contract_error(answer: &(u16, Value), status: u16, code: &str) {
    assert_eq!(answer.0, status, "{}", answer.1);
    assert_eq!(answer.1["error"], code, "{}", answer.1);
    assert!(answer.1["message"].as_str().is_some_and(|m| !m.is_empty()), "{}", answer.1);
}

/// The server still answers an ordinary request.
async fn still_serving(stack: &Stack) {
    let (status, page) = stack.call(reqwest::Method::GET, "/notes/public", None, None).await;
    assert_eq!(status, 200, "{page}");
}

#[tokio::test]
async fn a_host_header_with_a_space_is_400_on_every_route() {
    let stack = Stack::start().await;
    for line in ["GET /notes/public", "GET /notes", "POST /notes", "GET /notes/abc", "POST /auth/login"] {
        let answer = raw(&stack, &format!("{line} HTTP/1.1\r\nHost: a b"), b"").await;
        assert_contract_error(&answer, 400, "invalid_request");
    }
    still_serving(&stack).await;
}

#[tokio::test]
async fn a_numeric_forwarded_proto_is_400() {
    let stack = Stack::start().await;
    let answer = raw(&stack, "GET /notes/public HTTP/1.1\r\nHost: localhost\r\nX-Forwarded-Proto: 1", b"").await;
    assert_contract_error(&answer, 400, "invalid_request");
    still_serving(&stack).await;
}

#[tokio::test]
async fn a_malformed_percent_escape_in_the_path_is_400() {
    let stack = Stack::start().await;
    for path in ["/notes/%zz", "/notes/%ff%fe", "/notes/abc%2"] {
        let answer = raw(&stack, &format!("GET {path} HTTP/1.1\r\nHost: localhost"), b"").await;
        assert_contract_error(&answer, 400, "invalid_request");
    }
    still_serving(&stack).await;
}

#[tokio::test]
async fn an_unknown_route_is_404_and_an_unknown_method_405_in_the_contract_shape() {
    let stack = Stack::start().await;
    assert_contract_error(&raw(&stack, "GET /nowhere HTTP/1.1\r\nHost: localhost", b"").await, 404, "not_found");
    for line in ["PATCH /notes/abc", "BREW /notes", "PUT /auth/login"] {
        let answer = raw(&stack, &format!("{line} HTTP/1.1\r\nHost: localhost"), b"").await;
        assert_contract_error(&answer, 405, "method_not_allowed");
    }
    still_serving(&stack).await;
}

#[tokio::test]
async fn headers_over_ten_kilobytes_are_431() {
    let stack = Stack::start().await;
    let big = "x".repeat(11 * 1024);
    let answer = raw(&stack, &format!("GET /notes/public HTTP/1.1\r\nHost: localhost\r\nX-Big: {big}"), b"").await;
    assert_contract_error(&answer, 431, "request_header_fields_too_large");
    still_serving(&stack).await;
}

#[tokio::test]
async fn many_small_headers_over_ten_kilobytes_are_431_in_the_contract_shape() {
    let stack = Stack::start().await;
    let many: String = (0..1500).map(|i| format!("\r\nX-H{i}: v")).collect();
    let answer = raw(&stack, &format!("GET /notes/public HTTP/1.1\r\nHost: localhost{many}"), b"").await;
    assert_contract_error(&answer, 431, "request_header_fields_too_large");
    still_serving(&stack).await;
}

#[tokio::test]
async fn a_body_over_the_gateway_limit_is_413() {
    let stack = Stack::start().await;
    let body = vec![b'a'; 10 * 1024 * 1024 + 1];
    let answer = raw(&stack, "POST /notes HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json", &body).await;
    assert_contract_error(&answer, 413, "payload_too_large");
    still_serving(&stack).await;
}
