//! `$disconnect`: the connection's items go; an unknown connection is not an error.

use std::sync::Arc;

use aws_lambda_events::apigw::ApiGatewayWebsocketProxyRequest;
use disconnect::Disconnect;
use notes_core::adapters::fakes::InMemoryTable;
use notes_core::domain::{Timestamp, Username};
use notes_core::edge::function::WebSocketFunction;
use notes_core::ports::{Connection, ConnectionStore};

fn request(connection_id: &str) -> ApiGatewayWebsocketProxyRequest {
    serde_json::from_value(serde_json::json!({
        "requestContext": {"routeKey": "$disconnect", "eventType": "DISCONNECT", "connectionId": connection_id,
                           "connectedAt": 0, "requestTimeEpoch": 0},
        "isBase64Encoded": false
    }))
    .unwrap()
}

#[tokio::test]
async fn disconnect_removes_the_connection() {
    let table = Arc::new(InMemoryTable::new());
    let now = Timestamp::now();
    let connection = Connection {
        connection_id: "c-1".into(),
        username: Username::parse("alice").unwrap(),
        connected_at: now,
        expires_at: now.plus_seconds(60),
    };
    table.add(&connection).await.unwrap();
    let response = Disconnect::new(table.clone()).handle(request("c-1")).await;
    assert_eq!(response.status_code, 200);
    assert!(table.connection_ids().is_empty());
}

#[tokio::test]
async fn an_unknown_connection_is_not_an_error() {
    let table = Arc::new(InMemoryTable::new());
    assert_eq!(Disconnect::new(table).handle(request("never-seen")).await.status_code, 200);
}
