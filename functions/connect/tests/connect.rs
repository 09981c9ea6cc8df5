//! `$connect`: a valid token records the connection; anything else refuses the handshake and writes nothing.

use std::sync::Arc;

use aws_lambda_events::apigw::ApiGatewayWebsocketProxyRequest;
use connect::{CONNECTION_LIFETIME_SECONDS, Connect, MAX_CONNECTIONS_PER_USER};
use notes_core::adapters::fakes::{InMemoryTable, jwt_keys, token_for};
use notes_core::domain::{Timestamp, Username};
use notes_core::edge::auth::JwtKeys;
use notes_core::edge::function::WebSocketFunction;
use notes_core::ports::ConnectionStore;

fn request(token: Option<&str>, connection_id: &str) -> ApiGatewayWebsocketProxyRequest {
    let mut event = serde_json::json!({
        "requestContext": {"routeKey": "$connect", "eventType": "CONNECT", "connectionId": connection_id,
                           "connectedAt": Timestamp::now().epoch_millis(), "requestTimeEpoch": Timestamp::now().epoch_millis(),
                           "requestId": "r-1", "stage": "prod", "apiId": "ws"},
        "isBase64Encoded": false
    });
    if let Some(token) = token {
        event["queryStringParameters"] = serde_json::json!({"token": token});
    }
    serde_json::from_value(event).unwrap()
}

fn app() -> (Arc<InMemoryTable>, Connect) {
    let table = Arc::new(InMemoryTable::new());
    (table.clone(), Connect::new(jwt_keys(), table))
}

#[tokio::test]
async fn a_valid_token_records_the_connection_for_two_hours() {
    let (table, app) = app();
    let response = app.handle(request(Some(&token_for("alice")), "c-1")).await;
    assert_eq!(response.status_code, 200);
    let connections = table.of_user(&Username::parse("alice").unwrap()).await.unwrap();
    assert_eq!(connections.len(), 1);
    let c = &connections[0];
    assert_eq!(c.connection_id, "c-1");
    assert_eq!(c.expires_at.epoch_seconds() - c.connected_at.epoch_seconds(), CONNECTION_LIFETIME_SECONDS);
    let shard = notes_core::adapters::keys::connection_shard("c-1");
    assert_eq!(table.in_shard(shard).await.unwrap().len(), 1, "the broadcast can find it");
}

#[tokio::test]
async fn a_missing_token_is_refused_with_401_and_nothing_written() {
    let (table, app) = app();
    assert_eq!(app.handle(request(None, "c-1")).await.status_code, 401);
    assert_eq!(table.writes(), 0);
}

#[tokio::test]
async fn a_forged_token_is_refused_and_nothing_written() {
    let (table, app) = app();
    let forger = JwtKeys::new(b"not-the-real-secret-not-the-real-secret", 60).unwrap();
    let token = forger.issue(&Username::parse("alice").unwrap(), Timestamp::now()).token;
    assert_eq!(app.handle(request(Some(&token), "c-1")).await.status_code, 401);
    assert_eq!(table.writes(), 0);
}

#[tokio::test]
async fn an_expired_token_is_refused_and_nothing_written() {
    let (table, app) = app();
    let token = jwt_keys().issue(&Username::parse("alice").unwrap(), Timestamp::now().plus_seconds(-7200)).token;
    assert_eq!(app.handle(request(Some(&token), "c-1")).await.status_code, 401);
    assert_eq!(table.writes(), 0);
}

#[tokio::test]
async fn the_sample_connect_event_is_accepted_with_the_local_secret() {
    let raw = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../events/ws-connect.json")).unwrap();
    let env: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../events/env.json")).unwrap(),
    )
    .unwrap();
    let keys = JwtKeys::new(env["Parameters"]["JWT_SECRET"].as_str().unwrap().as_bytes(), 60).unwrap();
    let table = Arc::new(InMemoryTable::new());
    let app = Connect::new(keys, table.clone());
    let response = app.handle(serde_json::from_str(&raw).unwrap()).await;
    assert_eq!(response.status_code, 200);
    assert_eq!(table.connection_ids(), vec!["Ka1BccK1oAMCJbw="]);
}

#[tokio::test]
async fn a_user_with_ten_open_connections_is_refused_an_eleventh_with_429_and_nothing_written() {
    let (table, app) = app();
    for i in 0..MAX_CONNECTIONS_PER_USER {
        assert_eq!(app.handle(request(Some(&token_for("alice")), &format!("c-{i}"))).await.status_code, 200);
    }
    let writes = table.writes();
    assert_eq!(app.handle(request(Some(&token_for("alice")), "c-extra")).await.status_code, 429);
    assert_eq!(table.writes(), writes);
    assert_eq!(table.of_user(&Username::parse("alice").unwrap()).await.unwrap().len(), MAX_CONNECTIONS_PER_USER);
    // Another user is not affected.
    assert_eq!(app.handle(request(Some(&token_for("bob")), "c-bob")).await.status_code, 200);
}

#[tokio::test]
async fn a_closed_connection_makes_room_for_a_new_one() {
    let (table, app) = app();
    for i in 0..MAX_CONNECTIONS_PER_USER {
        app.handle(request(Some(&token_for("alice")), &format!("c-{i}"))).await;
    }
    table.remove("c-3").await.unwrap();
    assert_eq!(app.handle(request(Some(&token_for("alice")), "c-new")).await.status_code, 200);
}
