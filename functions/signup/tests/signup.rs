//! `POST /auth/signup`, as the contract's table says.

use notes_core::adapters::fakes::{ApiRequest, HttpWorld, send};
use notes_core::domain::{Password, Timestamp, Username};
use notes_core::edge::auth::PasswordHasher;
use notes_core::ports::UserStore;
use serde_json::json;
use signup::Signup;

type World = HttpWorld<Signup>;

fn world() -> World {
    HttpWorld::new(|table, _| Signup::new(table))
}

fn signup() -> ApiRequest {
    ApiRequest::new("POST /auth/signup", "/auth/signup")
}

fn alice() -> Username {
    Username::parse("alice").unwrap()
}

#[tokio::test]
async fn a_new_account_is_created_with_201_and_its_creation_time() {
    let w = world();
    let before = Timestamp::now();
    let (status, body) = send(&w, signup().json(json!({"username": "alice", "password": "correct horse"}))).await;
    assert_eq!(status, 201);
    assert_eq!(body["username"], "alice");
    let created_at = Timestamp::parse(body["createdAt"].as_str().unwrap()).unwrap();
    assert!(created_at >= before);
    assert_eq!(body.as_object().unwrap().len(), 2, "{body}");
    let stored = UserStore::get(w.table.as_ref(), &alice()).await.unwrap().unwrap();
    assert_eq!(stored.created_at, created_at);
}

#[tokio::test]
async fn the_password_is_stored_only_as_an_argon2id_hash_that_verifies() {
    let w = world();
    send(&w, signup().json(json!({"username": "alice", "password": "correct horse"}))).await;
    let stored = UserStore::get(w.table.as_ref(), &alice()).await.unwrap().unwrap();
    assert!(stored.password_hash.starts_with("$argon2id$"), "{}", stored.password_hash);
    assert!(!stored.password_hash.contains("correct horse"));
    let hasher = PasswordHasher::new();
    assert!(hasher.verify(&Password::parse("correct horse").unwrap(), Some(&stored.password_hash)));
}

#[tokio::test]
async fn signing_up_twice_with_one_name_is_409_and_keeps_the_first_account() {
    let w = world();
    send(&w, signup().json(json!({"username": "alice", "password": "first password"}))).await;
    let first = UserStore::get(w.table.as_ref(), &alice()).await.unwrap().unwrap();
    let (status, body) = send(&w, signup().json(json!({"username": "alice", "password": "second password"}))).await;
    assert_eq!(status, 409);
    assert_eq!(body["error"], "username_taken");
    assert!(!body["message"].as_str().unwrap().is_empty());
    assert_eq!(UserStore::get(w.table.as_ref(), &alice()).await.unwrap().unwrap(), first);
}

#[tokio::test]
async fn bad_bodies_are_400_naming_the_field_and_create_nothing() {
    let cases = [
        (json!({"password": "correct horse"}), "username is required"),
        (json!({"username": "alice"}), "password is required"),
        (json!({"username": 7, "password": "correct horse"}), "username must be a string"),
        (json!({"username": "alice", "password": true}), "password must be a string"),
        (json!({"username": "al", "password": "correct horse"}), "username must be 3 to 32"),
        (json!({"username": "x".repeat(33), "password": "correct horse"}), "username must be 3 to 32"),
        (json!({"username": "Alice", "password": "correct horse"}), "username may contain only"),
        (json!({"username": "al ice", "password": "correct horse"}), "username may contain only"),
        (json!({"username": "alice", "password": "short"}), "password must be 8 to 128"),
        (json!({"username": "alice", "password": "p".repeat(129)}), "password must be 8 to 128"),
        (json!("alice"), "must be a JSON object"),
    ];
    // One world for every case: building a password hasher costs a hash, slow in a debug build.
    let w = world();
    for (body, message) in cases {
        let (status, answer) = send(&w, signup().json(body.clone())).await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(answer["error"], "invalid_request");
        assert!(answer["message"].as_str().unwrap().contains(message), "{body}: {answer}");
        assert_eq!(w.table.writes(), 0);
    }
}

#[tokio::test]
async fn json_that_does_not_parse_is_400() {
    let w = world();
    let (status, body) = send(&w, signup().body("{\"username\": \"alice\",")).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_request")));
}

#[tokio::test]
async fn when_the_table_is_down_the_answer_is_503_without_aws_detail() {
    let w = world();
    w.table.set_unavailable(true);
    let (status, body) = send(&w, signup().json(json!({"username": "alice", "password": "correct horse"}))).await;
    assert_eq!((status, body["error"].as_str()), (503, Some("service_unavailable")));
    assert!(!body.to_string().contains("Throttling"));
}
