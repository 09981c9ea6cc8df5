//! `POST /auth/login`, as the contract's table says.

use std::sync::OnceLock;

use login::Login;
use notes_core::adapters::fakes::{ApiRequest, HttpWorld, jwt_keys, send};
use notes_core::domain::{Password, Timestamp, Username};
use notes_core::edge::auth::PasswordHasher;
use notes_core::ports::{UserRecord, UserStore};
use serde_json::json;

const PASSWORD: &str = "correct horse";

type World = HttpWorld<Login>;

/// alice's stored hash, computed once: argon2 is slow in a debug build.
fn alice_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| PasswordHasher::new().hash(&Password::parse(PASSWORD).unwrap()))
}

/// A world where alice has signed up with `PASSWORD`.
async fn world() -> World {
    let world = HttpWorld::new(|table, _| Login::new(jwt_keys(), table));
    let alice = UserRecord {
        username: Username::parse("alice").unwrap(),
        password_hash: alice_hash().to_owned(),
        created_at: Timestamp::now(),
    };
    assert!(world.table.create(&alice).await.unwrap());
    world
}

fn login(username: &str, password: &str) -> ApiRequest {
    ApiRequest::new("POST /auth/login", "/auth/login").json(json!({"username": username, "password": password}))
}

#[tokio::test]
async fn the_right_password_gets_a_bearer_token_for_the_user() {
    let w = world().await;
    let (status, body) = send(&w, login("alice", PASSWORD)).await;
    assert_eq!(status, 200);
    assert_eq!(body["tokenType"], "Bearer");
    assert_eq!(body["username"], "alice");
    let token = body["token"].as_str().unwrap();
    assert_eq!(jwt_keys().verify(token).unwrap().as_str(), "alice");
    assert_eq!(body.as_object().unwrap().len(), 4, "{body}");
}

#[tokio::test]
async fn the_token_expires_after_the_configured_lifetime() {
    let w = world().await;
    let before = Timestamp::now().epoch_seconds();
    let (_, body) = send(&w, login("alice", PASSWORD)).await;
    let after = Timestamp::now().epoch_seconds();
    let expires_at = Timestamp::parse(body["expiresAt"].as_str().unwrap()).unwrap().epoch_seconds();
    let ttl = jwt_keys().ttl_seconds();
    assert!((before + ttl..=after + ttl).contains(&expires_at), "{body}");
}

#[tokio::test]
async fn a_token_from_another_key_does_not_verify_as_ours() {
    // The token is signed with the function's own key, not just any HS256 key.
    let w = world().await;
    let (_, body) = send(&w, login("alice", PASSWORD)).await;
    let other = notes_core::edge::auth::JwtKeys::new(b"some-other-secret-some-other-secret", 60).unwrap();
    assert!(other.verify(body["token"].as_str().unwrap()).is_err());
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_user_get_the_same_401() {
    let w = world().await;
    let (wrong_status, wrong_password) = send(&w, login("alice", "wrong horse")).await;
    let (unknown_status, unknown_user) = send(&w, login("mallory", PASSWORD)).await;
    assert_eq!(wrong_status, 401);
    assert_eq!(unknown_status, 401);
    assert_eq!(wrong_password["error"], "invalid_credentials");
    assert_eq!(wrong_password, unknown_user);
}

#[tokio::test]
async fn a_username_that_breaks_the_rules_is_an_unknown_user_not_a_bad_request() {
    let w = world().await;
    let (_, unknown_user) = send(&w, login("mallory", PASSWORD)).await;
    for name in ["Alice", "al", "a l i c e"] {
        let (status, body) = send(&w, login(name, PASSWORD)).await;
        assert_eq!(status, 401, "{name}");
        assert_eq!(body, unknown_user, "{name}");
    }
}

#[tokio::test]
async fn a_password_that_breaks_the_length_rules_is_invalid_credentials() {
    let w = world().await;
    for password in ["short", &"p".repeat(129)] {
        let (status, body) = send(&w, login("alice", password)).await;
        assert_eq!((status, body["error"].as_str()), (401, Some("invalid_credentials")));
    }
}

#[tokio::test]
async fn a_missing_or_non_string_field_is_400_naming_it() {
    let w = world().await;
    let cases = [
        (json!({"password": PASSWORD}), "username is required"),
        (json!({"username": "alice"}), "password is required"),
        (json!({"username": ["alice"], "password": PASSWORD}), "username must be a string"),
        (json!({"username": "alice", "password": 12345678}), "password must be a string"),
        (json!(null), "must be a JSON object"),
    ];
    for (body, message) in cases {
        let req = ApiRequest::new("POST /auth/login", "/auth/login").json(body.clone());
        let (status, answer) = send(&w, req).await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(answer["error"], "invalid_request");
        assert!(answer["message"].as_str().unwrap().contains(message), "{body}: {answer}");
    }
}

#[tokio::test]
async fn json_that_does_not_parse_is_400() {
    let w = world().await;
    let req = ApiRequest::new("POST /auth/login", "/auth/login").body("username=alice&password=x");
    let (status, body) = send(&w, req).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_request")));
}

#[tokio::test]
async fn when_the_table_is_down_the_answer_is_503_not_401() {
    let w = world().await;
    w.table.set_unavailable(true);
    let (status, body) = send(&w, login("alice", PASSWORD)).await;
    assert_eq!((status, body["error"].as_str()), (503, Some("service_unavailable")));
}
