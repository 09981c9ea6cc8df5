//! `$connect`: a valid token offered as the `bearer.<JWT>` subprotocol records the connection and
//! selects `notes.v1`; anything else refuses the handshake and writes nothing.

use std::sync::Arc;

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use connect::{CONNECTION_LIFETIME_SECONDS, Connect, MAX_CONNECTIONS_PER_USER};
use notes_core::adapters::fakes::{InMemoryTable, RecordingPusher, jwt_keys, token_for};
use notes_core::domain::{Timestamp, Username};
use notes_core::edge::auth::JwtKeys;
use notes_core::edge::function::WebSocketFunction;
use notes_core::edge::http::websocket_protocols;
use notes_core::ports::{Connection, ConnectionStore};
use serde_json::json;

/// Where a handshake carries its token.
#[derive(Clone, Copy)]
enum Token<'a> {
    /// `Sec-WebSocket-Protocol: notes.v1, bearer.<JWT>`, as the app sends it.
    Offered(&'a str),
    /// `?token=<JWT>` with `notes.v1` offered: where the token used to be.
    InQuery(&'a str),
    /// `Authorization: Bearer <JWT>` with `notes.v1` offered: the REST API's place, not this one's.
    InAuthorization(&'a str),
    /// `Sec-WebSocket-Protocol: notes.v1, <JWT>`: without the `bearer.` prefix.
    Unprefixed(&'a str),
    /// `Sec-WebSocket-Protocol: bearer.<JWT>`: the token without the subprotocol to select.
    WithoutSubprotocol(&'a str),
    None,
}

fn request(token: Token, connection_id: &str) -> ApiGatewayWebsocketProxyRequest {
    let mut event = serde_json::json!({
        "requestContext": {"routeKey": "$connect", "eventType": "CONNECT", "connectionId": connection_id,
                           "connectedAt": Timestamp::now().epoch_millis(), "requestTimeEpoch": Timestamp::now().epoch_millis(),
                           "requestId": "r-1", "stage": "prod", "apiId": "ws"},
        "headers": {"Host": "ws.example", "Sec-WebSocket-Version": "13"},
        "isBase64Encoded": false
    });
    let protocols = match token {
        Token::Offered(jwt) => Some(websocket_protocols(jwt)),
        Token::Unprefixed(jwt) => Some(format!("notes.v1, {jwt}")),
        Token::WithoutSubprotocol(jwt) => Some(format!("bearer.{jwt}")),
        Token::InQuery(_) | Token::InAuthorization(_) => Some("notes.v1".to_owned()),
        Token::None => None,
    };
    if let Some(protocols) = protocols {
        // As API Gateway passes it: the header's one value, in both maps.
        event["headers"]["Sec-WebSocket-Protocol"] = json!(protocols);
        event["multiValueHeaders"] = json!({"Sec-WebSocket-Protocol": [protocols]});
    }
    match token {
        Token::InQuery(jwt) => {
            event["queryStringParameters"] = json!({"token": jwt});
            event["multiValueQueryStringParameters"] = json!({"token": [jwt]});
        }
        Token::InAuthorization(jwt) => event["headers"]["Authorization"] = json!(format!("Bearer {jwt}")),
        _ => {}
    }
    serde_json::from_value(event).unwrap()
}

fn offered(token: &str) -> Token<'_> {
    Token::Offered(token)
}

fn selected_protocol(response: &ApiGatewayProxyResponse) -> Option<&str> {
    response.headers.get("sec-websocket-protocol").and_then(|v| v.to_str().ok())
}

fn app() -> (Arc<InMemoryTable>, Connect) {
    let (table, _, app) = app_with_api();
    (table, app)
}

/// The function, its table and the Management API it asks whether a connection is open.
fn app_with_api() -> (Arc<InMemoryTable>, Arc<RecordingPusher>, Connect) {
    let table = Arc::new(InMemoryTable::new());
    let api = Arc::new(RecordingPusher::new());
    (table.clone(), api.clone(), Connect::new(jwt_keys(), table, api))
}

/// A connection item of alice's written `seconds_ago`.
fn alices(id: &str, seconds_ago: i64) -> Connection {
    let connected_at = Timestamp::now().plus_seconds(-seconds_ago);
    Connection {
        connection_id: id.into(),
        username: Username::parse("alice").unwrap(),
        connected_at,
        expires_at: connected_at.plus_seconds(CONNECTION_LIFETIME_SECONDS),
    }
}

#[tokio::test]
async fn a_valid_token_records_the_connection_for_two_hours() {
    let (table, app) = app();
    let response = app.handle(request(offered(&token_for("alice")), "c-1")).await;
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
async fn the_token_offered_as_a_subprotocol_is_accepted_and_notes_v1_selected() {
    let (table, app) = app();
    let response = app.handle(request(offered(&token_for("alice")), "c-1")).await;
    assert_eq!(response.status_code, 200);
    assert_eq!(selected_protocol(&response), Some("notes.v1"), "a browser fails a handshake that selects none");
    assert_eq!(table.connection_ids(), vec!["c-1"]);
}

#[tokio::test]
async fn the_offer_is_read_whichever_way_the_header_comes() {
    let token = token_for("alice");
    let event = |headers: serde_json::Value, multi: serde_json::Value| -> ApiGatewayWebsocketProxyRequest {
        serde_json::from_value(json!({
            "requestContext": {"routeKey": "$connect", "eventType": "CONNECT", "connectionId": "c-1",
                               "connectedAt": Timestamp::now().epoch_millis(), "requestTimeEpoch": Timestamp::now().epoch_millis(),
                               "requestId": "r-1"},
            "headers": headers, "multiValueHeaders": multi, "isBase64Encoded": false
        }))
        .unwrap()
    };
    for request in [
        // The header's name in any case, the token first, no space after the comma.
        event(json!({"sec-websocket-protocol": format!("bearer.{token},notes.v1")}), json!({})),
        // Only in multiValueHeaders, as two values.
        event(json!({}), json!({"Sec-WebSocket-Protocol": ["notes.v1", format!("bearer.{token}")]})),
    ] {
        let (_, app) = app();
        let response = app.handle(request).await;
        assert_eq!(response.status_code, 200);
        assert_eq!(selected_protocol(&response), Some("notes.v1"));
    }
}

#[tokio::test]
async fn a_missing_token_is_refused_with_401_and_nothing_written() {
    let (table, app) = app();
    let response = app.handle(request(Token::None, "c-1")).await;
    assert_eq!(response.status_code, 401);
    assert_eq!(selected_protocol(&response), None);
    assert_eq!(table.writes(), 0);
}

#[tokio::test]
async fn a_valid_token_anywhere_but_the_bearer_subprotocol_is_refused_with_401_and_nothing_written() {
    let token = token_for("alice");
    for (place, token) in [
        ("?token=", Token::InQuery(&token)),
        ("Authorization", Token::InAuthorization(&token)),
        ("a subprotocol without bearer.", Token::Unprefixed(&token)),
    ] {
        let (table, app) = app();
        let response = app.handle(request(token, "c-1")).await;
        assert_eq!(response.status_code, 401, "a token in {place}");
        assert_eq!(table.writes(), 0, "a token in {place}");
    }
}

#[tokio::test]
async fn a_token_offered_without_notes_v1_is_refused_with_400_and_nothing_written() {
    let (table, app) = app();
    let response = app.handle(request(Token::WithoutSubprotocol(&token_for("alice")), "c-1")).await;
    assert_eq!(response.status_code, 400);
    assert_eq!(selected_protocol(&response), None, "the token's own subprotocol is never sent back");
    assert_eq!(table.writes(), 0);
}

#[tokio::test]
async fn a_forged_token_is_refused_and_nothing_written() {
    let (table, app) = app();
    let forger = JwtKeys::new(b"not-the-real-secret-not-the-real-secret", 60).unwrap();
    let token = forger.issue(&Username::parse("alice").unwrap(), Timestamp::now()).token;
    assert_eq!(app.handle(request(offered(&token), "c-1")).await.status_code, 401);
    assert_eq!(table.writes(), 0);
}

#[tokio::test]
async fn an_expired_token_is_refused_and_nothing_written() {
    let (table, app) = app();
    let token = jwt_keys().issue(&Username::parse("alice").unwrap(), Timestamp::now().plus_seconds(-7200)).token;
    assert_eq!(app.handle(request(offered(&token), "c-1")).await.status_code, 401);
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
    let app = Connect::new(keys, table.clone(), Arc::new(RecordingPusher::new()));
    let response = app.handle(serde_json::from_str(&raw).unwrap()).await;
    assert_eq!(response.status_code, 200);
    assert_eq!(selected_protocol(&response), Some("notes.v1"));
    assert_eq!(table.connection_ids(), vec!["Ka1BccK1oAMCJbw="]);
}

#[tokio::test]
async fn a_user_with_ten_open_connections_is_refused_an_eleventh_with_429_and_nothing_written() {
    let (table, app) = app();
    for i in 0..MAX_CONNECTIONS_PER_USER {
        assert_eq!(app.handle(request(offered(&token_for("alice")), &format!("c-{i}"))).await.status_code, 200);
    }
    let writes = table.writes();
    assert_eq!(app.handle(request(offered(&token_for("alice")), "c-extra")).await.status_code, 429);
    assert_eq!(table.writes(), writes);
    assert_eq!(table.of_user(&Username::parse("alice").unwrap()).await.unwrap().len(), MAX_CONNECTIONS_PER_USER);
    // Another user is not affected.
    assert_eq!(app.handle(request(offered(&token_for("bob")), "c-bob")).await.status_code, 200);
}

#[tokio::test]
async fn a_closed_connection_makes_room_for_a_new_one() {
    let (table, app) = app();
    for i in 0..MAX_CONNECTIONS_PER_USER {
        app.handle(request(offered(&token_for("alice")), &format!("c-{i}"))).await;
    }
    table.remove("c-3").await.unwrap();
    assert_eq!(app.handle(request(offered(&token_for("alice")), "c-new")).await.status_code, 200);
}

#[tokio::test]
async fn items_left_by_connections_gone_without_disconnect_do_not_lock_a_user_out() {
    // Ten items from an hour ago whose tabs crashed: API Gateway has closed them, but no
    // $disconnect ran, so the items stay until their TTL.
    let (table, api, app) = app_with_api();
    for i in 0..MAX_CONNECTIONS_PER_USER {
        let id = format!("old-{i}");
        table.add(&alices(&id, 3600)).await.unwrap();
        api.mark_gone(&id);
    }
    assert_eq!(app.handle(request(offered(&token_for("alice")), "c-new")).await.status_code, 200);
    // As many gone items are removed as make room, oldest first; the rest expire by TTL.
    let open = table.of_user(&Username::parse("alice").unwrap()).await.unwrap();
    assert_eq!(open.len(), MAX_CONNECTIONS_PER_USER);
    assert!(open.iter().any(|c| c.connection_id == "c-new"));
}

#[tokio::test]
async fn a_full_count_of_connections_still_open_refuses_the_next_after_checking_them() {
    let (table, _api, app) = app_with_api();
    for i in 0..MAX_CONNECTIONS_PER_USER {
        table.add(&alices(&format!("open-{i}"), 3600)).await.unwrap();
    }
    assert_eq!(app.handle(request(offered(&token_for("alice")), "c-new")).await.status_code, 429);
    assert_eq!(table.of_user(&Username::parse("alice").unwrap()).await.unwrap().len(), MAX_CONNECTIONS_PER_USER);
}

#[tokio::test]
async fn connections_still_in_their_handshake_are_counted_without_asking() {
    // Items written seconds ago may belong to handshakes still under way, which API Gateway
    // answers 410 for: they count as open and are never removed here.
    let (table, api, app) = app_with_api();
    for i in 0..MAX_CONNECTIONS_PER_USER {
        let id = format!("new-{i}");
        table.add(&alices(&id, 1)).await.unwrap();
        api.mark_gone(&id);
    }
    assert_eq!(app.handle(request(offered(&token_for("alice")), "c-new")).await.status_code, 429);
    assert_eq!(table.of_user(&Username::parse("alice").unwrap()).await.unwrap().len(), MAX_CONNECTIONS_PER_USER);
}
