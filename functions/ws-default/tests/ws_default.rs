//! `$default`: ping gets pong; anything else gets a short JSON error.

use aws_lambda_events::apigw::ApiGatewayWebsocketProxyRequest;
use aws_lambda_events::encodings::Body;
use serde_json::Value;

fn reply_to(body: &str) -> Value {
    let request: ApiGatewayWebsocketProxyRequest = serde_json::from_value(serde_json::json!({
        "requestContext": {"routeKey": "$default", "eventType": "MESSAGE", "connectionId": "c-1", "connectedAt": 0, "requestTimeEpoch": 0},
        "body": body, "isBase64Encoded": false
    }))
    .unwrap();
    let response = ws_default::reply(&request);
    assert_eq!(response.status_code, 200);
    match response.body {
        Some(Body::Text(text)) => serde_json::from_str(&text).unwrap(),
        other => panic!("expected a text body, got {other:?}"),
    }
}

#[test]
fn ping_gets_pong() {
    assert_eq!(reply_to(r#"{"action":"ping"}"#), serde_json::json!({"type": "pong"}));
}

#[test]
fn an_unknown_action_gets_an_error_naming_it() {
    let reply = reply_to(r#"{"action":"dance"}"#);
    assert_eq!(reply["type"], "error");
    assert_eq!(reply["error"], "unknown_action");
    assert!(reply["message"].as_str().unwrap().contains("dance"));
}

#[test]
fn a_message_that_is_not_json_gets_an_error() {
    let reply = reply_to("hello?");
    assert_eq!(reply["error"], "invalid_message");
}
