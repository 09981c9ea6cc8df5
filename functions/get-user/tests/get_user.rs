//! `GET /auth/user`, as the contract's table says.

use get_user::GetUser;
use notes_core::adapters::fakes::{ApiRequest, HttpWorld, jwt_keys, send};
use notes_core::domain::{Timestamp, Username};
use notes_core::edge::auth::JwtKeys;
use notes_core::ports::UserStore;

type World = HttpWorld<GetUser>;

fn world() -> World {
    HttpWorld::new(|table, _| {
        table.insert_user(&alice());
        GetUser::new(jwt_keys(), table)
    })
}

fn alice() -> Username {
    Username::parse("alice").unwrap()
}

fn get() -> ApiRequest {
    ApiRequest::new("GET /auth/user", "/auth/user")
}

#[tokio::test]
async fn the_signed_in_user_gets_their_account() {
    let w = world();
    let (status, body) = send(&w, get().bearer("alice")).await;
    assert_eq!(status, 200);
    let stored = UserStore::get(w.table.as_ref(), &alice()).await.unwrap().unwrap();
    assert_eq!(body, serde_json::json!({"username": "alice", "createdAt": stored.created_at.to_string()}));
}

#[tokio::test]
async fn the_password_hash_is_never_in_the_answer() {
    let w = world();
    let (_, body) = send(&w, get().bearer("alice")).await;
    assert!(!body.to_string().contains("argon2"), "{body}");
}

#[tokio::test]
async fn without_a_token_the_answer_is_401() {
    let w = world();
    let (status, body) = send(&w, get()).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("unauthorized")));
}

#[tokio::test]
async fn a_token_signed_with_another_key_is_401() {
    let w = world();
    let other = JwtKeys::new(b"some-other-secret-some-other-secret", 60).unwrap();
    let token = other.issue(&alice(), Timestamp::now()).token;
    let (status, body) = send(&w, get().header("authorization", &format!("Bearer {token}"))).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("unauthorized")));
}

#[tokio::test]
async fn an_expired_token_is_401() {
    let w = world();
    let token = jwt_keys().issue(&alice(), Timestamp::now().plus_seconds(-2 * 3600)).token;
    let (status, _) = send(&w, get().header("authorization", &format!("Bearer {token}"))).await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn a_valid_token_for_an_account_that_no_longer_exists_is_401() {
    let w = world();
    let (status, body) = send(&w, get().bearer("bob")).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("unauthorized")));
}

#[tokio::test]
async fn when_the_table_is_down_the_answer_is_503() {
    let w = world();
    w.table.set_unavailable(true);
    let (status, body) = send(&w, get().bearer("alice")).await;
    assert_eq!((status, body["error"].as_str()), (503, Some("service_unavailable")));
}
