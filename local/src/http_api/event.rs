//! The payload format 2.0 event API Gateway sends to a Lambda integration, built from a request
//! the way API Gateway builds it, and read by `lambda_http` the way Lambda reads it.

use std::collections::BTreeMap;

use base64::Engine as _;
use http::{HeaderMap, Method, header};
use notes_core::domain::Timestamp;
use notes_core::topology::HttpRoute;
use serde_json::{Value, json};

/// A matched route: its key (`GET /notes/{noteId}`) and its path parameters, decoded.
#[derive(Debug, PartialEq, Eq)]
pub struct RouteMatch {
    pub route_key: String,
    pub path_parameters: BTreeMap<String, String>,
}

impl RouteMatch {
    /// The route `route` matched for `path`; `None` when a parameter is not valid percent-encoded
    /// UTF-8 (or the path does not have the route's shape).
    pub fn of(route: &HttpRoute, path: &str) -> Option<Self> {
        let parts: Vec<&str> = route.path.split('/').collect();
        let segments: Vec<&str> = path.split('/').collect();
        if parts.len() != segments.len() {
            return None;
        }
        let mut path_parameters = BTreeMap::new();
        for (part, segment) in parts.iter().zip(&segments) {
            if let Some(name) = part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
                path_parameters.insert(name.to_owned(), percent_decode(segment)?);
            }
        }
        Some(RouteMatch { route_key: route.key(), path_parameters })
    }
}

/// Decodes `%XX` escapes; `None` for a malformed escape or bytes that are not UTF-8.
pub(super) fn percent_decode(segment: &str) -> Option<String> {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// An API Gateway request id: 16 characters of base64, like `JkH1ZgKJoAMEVxw=`.
pub fn request_id() -> String {
    base64::engine::general_purpose::STANDARD.encode(&uuid::Uuid::new_v4().as_bytes()[..10])
}

/// Payload format 2.0 joins the values of a repeated header or query parameter with commas.
fn join_repeated(map: &mut BTreeMap<String, String>, key: String, value: String) {
    map.entry(key)
        .and_modify(|joined| {
            joined.push(',');
            joined.push_str(&value);
        })
        .or_insert(value);
}

/// The payload format 2.0 event API Gateway sends to a Lambda integration.
pub fn api_gateway_event(
    route: &RouteMatch,
    method: &Method,
    path: &str,
    raw_query: &str,
    headers: &HeaderMap,
    body: &[u8],
    source_ip: &str,
) -> Value {
    let mut header_map: BTreeMap<String, String> = BTreeMap::new();
    let mut cookies = Vec::new();
    for (name, value) in headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        if name == header::COOKIE {
            cookies.extend(value.split(';').map(|c| c.trim().to_owned()));
            continue;
        }
        join_repeated(&mut header_map, name.as_str().to_owned(), value);
    }
    let mut query: BTreeMap<String, String> = BTreeMap::new();
    for (key, value) in serde_urlencoded::from_str::<Vec<(String, String)>>(raw_query).unwrap_or_default() {
        join_repeated(&mut query, key, value);
    }
    let (body_text, is_base64) = match std::str::from_utf8(body) {
        Ok(text) => (text.to_owned(), false),
        Err(_) => (base64::engine::general_purpose::STANDARD.encode(body), true),
    };
    let now = Timestamp::now();
    let mut event = json!({
        "version": "2.0",
        "routeKey": route.route_key,
        "rawPath": path,
        "rawQueryString": raw_query,
        "headers": header_map,
        "requestContext": {
            "accountId": "000000000000",
            "apiId": "local",
            "domainName": headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("127.0.0.1"),
            "domainPrefix": "local",
            "http": {
                "method": method.as_str(),
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": headers.get(header::USER_AGENT).and_then(|h| h.to_str().ok()).unwrap_or(""),
            },
            "requestId": request_id(),
            "routeKey": route.route_key,
            "stage": "$default",
            "time": now.as_datetime().format("%d/%b/%Y:%H:%M:%S +0000").to_string(),
            "timeEpoch": now.epoch_millis(),
        },
        "isBase64Encoded": is_base64,
    });
    if !cookies.is_empty() {
        event["cookies"] = json!(cookies);
    }
    if !query.is_empty() {
        event["queryStringParameters"] = json!(query);
    }
    if !route.path_parameters.is_empty() {
        event["pathParameters"] = json!(route.path_parameters);
    }
    if !body.is_empty() {
        event["body"] = Value::String(body_text);
    }
    event
}

/// The request `lambda_http` builds from the event, as in Lambda; `None` where it refuses it.
/// It panics on some malformed headers (`Host: a b`, `X-Forwarded-Proto: 1`) while building the
/// URI; that panic is caught here, so one bad request never costs the connection.
pub(super) fn lambda_request(event: &Value) -> Option<lambda_http::Request> {
    let text = event.to_string();
    std::panic::catch_unwind(|| lambda_http::request::from_str(&text)).ok()?.ok()
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;
    use notes_core::topology::topology;

    use super::*;

    fn route(method: &str, path: &str) -> HttpRoute {
        topology()
            .http_routes()
            .map(|(_, r)| r)
            .find(|r| r.method == method && r.path == path)
            .unwrap_or_else(|| panic!("{method} {path} is declared"))
            .clone()
    }

    #[test]
    fn path_parameters_are_read_from_the_declared_template() {
        let one = RouteMatch::of(&route("GET", "/notes/{noteId}"), "/notes/abc").unwrap();
        assert_eq!(one.route_key, "GET /notes/{noteId}");
        assert_eq!(one.path_parameters["noteId"], "abc");
    }

    #[test]
    fn the_event_carries_what_lambda_http_reads() {
        let matched = RouteMatch::of(&route("GET", "/notes"), "/notes").unwrap();
        let mut headers = HeaderMap::new();
        headers.insert("authorization", HeaderValue::from_static("Bearer t"));
        let event =
            api_gateway_event(&matched, &Method::GET, "/notes", "limit=5&cursor=abc", &headers, b"", "127.0.0.1");
        let request = lambda_http::request::from_str(&event.to_string()).unwrap();
        assert_eq!(notes_core::edge::http::query_param(&request, "limit").as_deref(), Some("5"));
        assert_eq!(notes_core::edge::http::bearer_token(&request), Some("t"));
        assert_eq!(event["routeKey"], "GET /notes");
        assert_eq!(event["requestContext"]["requestId"].as_str().unwrap().len(), 16);
    }

    #[test]
    fn repeated_query_values_and_headers_are_joined_with_commas() {
        let matched = RouteMatch::of(&route("GET", "/notes"), "/notes").unwrap();
        let mut headers = HeaderMap::new();
        headers.append("x-tag", HeaderValue::from_static("a"));
        headers.append("x-tag", HeaderValue::from_static("b"));
        let event = api_gateway_event(&matched, &Method::GET, "/notes", "k=1&k=2", &headers, b"", "127.0.0.1");
        assert_eq!(event["queryStringParameters"]["k"], "1,2");
        assert_eq!(event["headers"]["x-tag"], "a,b");
    }

    #[test]
    fn a_binary_body_is_base64_encoded() {
        let matched = RouteMatch::of(&route("POST", "/notes"), "/notes").unwrap();
        let event =
            api_gateway_event(&matched, &Method::POST, "/notes", "", &HeaderMap::new(), &[0xff, 0xfe], "127.0.0.1");
        assert_eq!(event["isBase64Encoded"], true);
        assert_eq!(event["body"], "//4=");
    }

    #[test]
    fn percent_encoded_path_parameters_are_decoded() {
        let matched = RouteMatch::of(&route("GET", "/notes/{noteId}"), "/notes/a%2Fb").unwrap();
        assert_eq!(matched.path_parameters["noteId"], "a/b");
    }

    #[test]
    fn malformed_percent_encoding_is_refused() {
        assert_eq!(percent_decode("a%2"), None);
        assert_eq!(percent_decode("a%zz"), None);
        assert_eq!(percent_decode("%ff%fe"), None);
        assert_eq!(percent_decode("caf%C3%A9").as_deref(), Some("café"));
        assert_eq!(RouteMatch::of(&route("GET", "/notes/{noteId}"), "/notes/%zz"), None);
    }

    #[test]
    fn an_event_lambda_http_panics_on_is_refused_not_fatal() {
        let matched = RouteMatch::of(&route("GET", "/notes/public"), "/notes/public").unwrap();
        for (name, value) in [("host", "a b"), ("x-forwarded-proto", "1")] {
            let mut headers = HeaderMap::new();
            headers.insert(name, HeaderValue::from_static(value));
            let event = api_gateway_event(&matched, &Method::GET, "/notes/public", "", &headers, b"", "127.0.0.1");
            assert!(lambda_request(&event).is_none(), "{name}: {value}");
        }
    }
}
