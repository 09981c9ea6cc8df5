//! The REST API end to end through the local stack: every success and error row of the
//! contract's table, cross-user access, forged tokens, and pagination.

use base64::Engine as _;
use notes_core::domain::{Timestamp, Username};
use notes_core::edge::auth::JwtKeys;
use notes_e2e::{PATIENCE, Stack, unique};
use reqwest::Method;
use serde_json::{Value, json};

const GET: Method = Method::GET;
const POST: Method = Method::POST;
const PUT: Method = Method::PUT;
const DELETE: Method = Method::DELETE;

fn assert_error(answer: &(u16, Value), status: u16, code: &str) {
    assert_eq!(answer.0, status, "{}", answer.1);
    assert_eq!(answer.1["error"], code, "{}", answer.1);
    assert!(answer.1["message"].as_str().is_some_and(|m| !m.is_empty()), "{}", answer.1);
}

/// Waits until the note is stored (the pipeline is asynchronous) and returns it.
async fn stored(stack: &Stack, token: &str, note_id: &str) -> Value {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let (status, body) = stack.call(GET, &format!("/notes/{note_id}"), Some(token), None).await;
        if status == 200 {
            return body;
        }
        assert!(tokio::time::Instant::now() < deadline, "note {note_id} was never stored");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn signup_login_and_user_follow_the_contract() {
    let stack = Stack::start().await;
    let name = unique("ann");
    let credentials = json!({"username": name, "password": "long enough password"});

    let (status, created) = stack.call(POST, "/auth/signup", None, Some(credentials.clone())).await;
    assert_eq!(status, 201);
    assert_eq!(created["username"], name.as_str());
    assert!(created["createdAt"].as_str().unwrap().ends_with('Z'));
    assert!(created.get("password").is_none() && created.get("passwordHash").is_none());

    assert_error(&stack.call(POST, "/auth/signup", None, Some(credentials.clone())).await, 409, "username_taken");
    for bad in [
        json!({"username": "ab", "password": "long enough"}),
        json!({"username": name, "password": "short"}),
        json!({"username": name}),
    ] {
        assert_error(&stack.call(POST, "/auth/signup", None, Some(bad)).await, 400, "invalid_request");
    }

    let (status, login) = stack.call(POST, "/auth/login", None, Some(credentials)).await;
    assert_eq!(status, 200);
    assert_eq!(login["tokenType"], "Bearer");
    assert_eq!(login["username"], name.as_str());
    assert!(login["expiresAt"].is_string());
    let token = login["token"].as_str().unwrap();

    let (status, me) = stack.call(GET, "/auth/user", Some(token), None).await;
    assert_eq!(status, 200);
    assert_eq!(me, created);
    assert_error(&stack.call(GET, "/auth/user", None, None).await, 401, "unauthorized");
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_user_get_the_same_401() {
    let stack = Stack::start().await;
    let name = unique("bea");
    stack.user(&name).await;
    let wrong =
        stack.call(POST, "/auth/login", None, Some(json!({"username": name, "password": "not the password"}))).await;
    let unknown = stack
        .call(POST, "/auth/login", None, Some(json!({"username": unique("nobody"), "password": "not the password"})))
        .await;
    assert_error(&wrong, 401, "invalid_credentials");
    assert_eq!(wrong, unknown);
    assert_error(&stack.call(POST, "/auth/login", None, Some(json!({"password": "x"}))).await, 400, "invalid_request");
}

#[tokio::test]
async fn post_notes_refuses_bad_input_with_400_413_and_401() {
    let stack = Stack::start().await;
    let token = stack.user(&unique("cal")).await;
    assert_error(&stack.call(POST, "/notes", None, Some(json!({"content": "x"}))).await, 401, "unauthorized");
    assert_error(&stack.call(POST, "/notes", Some(&token), Some(json!({"content": ""}))).await, 400, "invalid_request");
    assert_error(&stack.call(POST, "/notes", Some(&token), Some(json!({"content": 7}))).await, 400, "invalid_request");
    let huge = json!({"content": "x".repeat(70_000)});
    assert_error(&stack.call(POST, "/notes", Some(&token), Some(huge)).await, 413, "payload_too_large");
    let response = stack.http.post(stack.url("/notes")).bearer_auth(&token).body("{not json").send().await.unwrap();
    assert_eq!(response.status(), 400);
}

#[tokio::test]
async fn an_idempotency_key_sent_twice_gives_one_note() {
    let stack = Stack::start().await;
    let token = stack.user(&unique("dov")).await;
    let post = || {
        stack
            .http
            .post(stack.url("/notes"))
            .bearer_auth(&token)
            .header("Idempotency-Key", "retry-1")
            .json(&json!({"content": "once"}))
            .send()
    };
    let first: Value = post().await.unwrap().json().await.unwrap();
    let second = post().await.unwrap();
    // 202 while the note is pending, 200 `saved` once the pipeline stored it: the same note.
    let status = second.status().as_u16();
    let second: Value = second.json().await.unwrap();
    assert!(matches!((status, second["status"].as_str()), (202, Some("pending")) | (200, Some("saved"))), "{second}");
    assert_eq!(first["noteId"], second["noteId"]);
    stored(&stack, &token, first["noteId"].as_str().unwrap()).await;
    let (_, page) = stack.call(GET, "/notes", Some(&token), None).await;
    assert_eq!(page["notes"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn an_idempotency_key_reused_with_another_body_is_422_and_a_retry_after_saving_is_200_saved() {
    let stack = Stack::start().await;
    let (token, mut ws) = stack.connected_user("kim").await;
    let post = |content: &'static str| {
        stack
            .http
            .post(stack.url("/notes"))
            .bearer_auth(&token)
            .header("Idempotency-Key", "retry-2")
            .json(&json!({"content": content}))
            .send()
    };
    let first: Value = post("the first body").await.unwrap().json().await.unwrap();
    let note_id = first["noteId"].as_str().unwrap();

    let reused = post("another body").await.unwrap();
    assert_eq!(reused.status(), 422);
    let reused: Value = reused.json().await.unwrap();
    assert_error(&(422, reused), 422, "idempotency_key_reused");

    ws.expect_event("note-saved", note_id).await;
    let retry = post("the first body").await.unwrap();
    assert_eq!(retry.status(), 200);
    let retry: Value = retry.json().await.unwrap();
    assert_eq!((retry["noteId"].as_str(), retry["status"].as_str()), (Some(note_id), Some("saved")));
    ws.expect_nothing_about(note_id, std::time::Duration::from_millis(1500)).await;
    let (_, page) = stack.call(GET, "/notes", Some(&token), None).await;
    assert_eq!(page["notes"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_saved_note_reads_back_as_the_contract_note() {
    let stack = Stack::start().await;
    let token = stack.user(&unique("eve")).await;
    let note_id = stack.post_note(&token, "readable", true).await;
    let note = stored(&stack, &token, &note_id).await;
    assert_eq!(note["noteId"], note_id.as_str());
    assert_eq!(note["content"], "readable");
    assert_eq!(note["isPublic"], true);
    assert_eq!(note["status"], "saved");
    for field in ["createdAt", "savedAt"] {
        let at = note[field].as_str().unwrap();
        assert_eq!(at.len(), "2026-11-23T10:15:30.123Z".len(), "{field}: {at}");
    }
    assert!(note.get("updatedAt").is_none());
    assert_error(&stack.call(GET, "/notes/not-a-note", Some(&token), None).await, 404, "not_found");
    assert_error(&stack.call(GET, &format!("/notes/{note_id}"), None, None).await, 401, "unauthorized");
}

#[tokio::test]
async fn another_users_note_is_404_to_read_and_edit_and_a_delete_leaves_it_unchanged() {
    let stack = Stack::start().await;
    let owner = stack.user(&unique("fay")).await;
    let intruder = stack.user(&unique("gus")).await;
    let note_id = stack.post_note(&owner, "mine", true).await;
    stored(&stack, &owner, &note_id).await;
    let path = format!("/notes/{note_id}");

    assert_error(&stack.call(GET, &path, Some(&intruder), None).await, 404, "not_found");
    assert_error(
        &stack.call(PUT, &path, Some(&intruder), Some(json!({"content": "yours now"}))).await,
        404,
        "not_found",
    );
    // A DELETE looks in the caller's own notes only: to the intruder the id holds nothing, so it
    // is answered as any id they never stored, and the owner's note is not touched.
    assert_eq!(stack.call(DELETE, &path, Some(&intruder), None).await.0, 204);
    assert_eq!(stored(&stack, &owner, &note_id).await["content"], "mine");
    let (_, feed) = stack.call(GET, "/notes/public?limit=100", None, None).await;
    assert!(feed["notes"].as_array().unwrap().iter().any(|n| n["noteId"] == note_id.as_str()), "{feed}");
}

#[tokio::test]
async fn an_owner_edits_and_deletes_a_public_note_and_the_feed_keeps_in_step() {
    let stack = Stack::start().await;
    let token = stack.user(&unique("hal")).await;
    let note_id = stack.post_note(&token, "public draft", true).await;
    stored(&stack, &token, &note_id).await;
    let path = format!("/notes/{note_id}");
    let in_feed = || async {
        let (_, feed) = stack.call(GET, "/notes/public?limit=100", None, None).await;
        feed["notes"].as_array().unwrap().iter().find(|n| n["noteId"] == note_id.as_str()).cloned()
    };

    let (status, edited) = stack.call(PUT, &path, Some(&token), Some(json!({"content": "public, edited"}))).await;
    assert_eq!(status, 200);
    assert_eq!(edited["content"], "public, edited");
    assert!(edited["updatedAt"].is_string());
    assert_eq!(in_feed().await.unwrap()["content"], "public, edited");

    let (status, hidden) = stack.call(PUT, &path, Some(&token), Some(json!({"isPublic": false}))).await;
    assert_eq!((status, hidden["isPublic"].as_bool()), (200, Some(false)));
    assert!(in_feed().await.is_none());
    stack.call(PUT, &path, Some(&token), Some(json!({"isPublic": true}))).await;
    assert!(in_feed().await.is_some());

    assert_error(&stack.call(PUT, &path, Some(&token), Some(json!({}))).await, 400, "invalid_request");
    assert_error(&stack.call(PUT, &path, Some(&token), Some(json!({"content": "  "}))).await, 400, "invalid_request");
    assert_error(&stack.call(PUT, &path, None, Some(json!({"content": "x"}))).await, 401, "unauthorized");

    let (status, body) = stack.call(DELETE, &path, Some(&token), None).await;
    assert_eq!((status, body), (204, Value::Null));
    assert!(in_feed().await.is_none());
    assert_error(&stack.call(GET, &path, Some(&token), None).await, 404, "not_found");
    // A DELETE is idempotent: sent again (a client retrying), it answers 204 once more.
    assert_eq!(stack.call(DELETE, &path, Some(&token), None).await.0, 204);
    assert_error(&stack.call(DELETE, &path, None, None).await, 401, "unauthorized");
}

#[tokio::test]
async fn pagination_walks_every_note_newest_first_with_none_missing_or_repeated() {
    let stack = Stack::start().await;
    let token = stack.user(&unique("ida")).await;
    let mut posted = Vec::new();
    for i in 0..7 {
        posted.push(stack.post_note(&token, &format!("note {i}"), i % 2 == 0).await);
    }
    for id in &posted {
        stored(&stack, &token, id).await;
    }
    posted.reverse();

    let walk = |path: &'static str, auth: Option<String>| {
        let stack = &stack;
        async move {
            let mut seen: Vec<String> = Vec::new();
            let mut cursor: Option<String> = None;
            loop {
                let url = match &cursor {
                    Some(c) => format!("{path}?limit=3&cursor={c}"),
                    None => format!("{path}?limit=3"),
                };
                let (status, page) = stack.call(GET, &url, auth.as_deref(), None).await;
                assert_eq!(status, 200, "{page}");
                let notes = page["notes"].as_array().unwrap();
                assert!(notes.len() <= 3);
                seen.extend(notes.iter().map(|n| n["noteId"].as_str().unwrap().to_owned()));
                match page["nextCursor"].as_str() {
                    Some(next) => cursor = Some(next.to_owned()),
                    None => return seen,
                }
            }
        }
    };
    assert_eq!(walk("/notes", Some(token.clone())).await, posted);
    let public: Vec<String> =
        posted.iter().enumerate().filter(|(i, _)| (6 - i) % 2 == 0).map(|(_, id)| id.clone()).collect();
    assert_eq!(walk("/notes/public", None).await, public);
}

#[tokio::test]
async fn bad_limits_and_tampered_cursors_are_400_not_500() {
    let stack = Stack::start().await;
    let token = stack.user(&unique("jo")).await;
    for query in ["limit=0", "limit=101", "limit=ten", "cursor=%%%", "cursor=dGFtcGVyZWQ"] {
        assert_error(&stack.call(GET, &format!("/notes?{query}"), Some(&token), None).await, 400, "invalid_request");
        assert_error(&stack.call(GET, &format!("/notes/public?{query}"), None, None).await, 400, "invalid_request");
    }
    assert_error(&stack.call(GET, "/notes", None, None).await, 401, "unauthorized");
}

#[tokio::test]
async fn forged_tokens_are_401_on_every_authenticated_route() {
    let stack = Stack::start().await;
    let name = unique("kim");
    let real = stack.user(&name).await;
    let username = Username::parse(&name).unwrap();
    let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    let exp = Timestamp::now().plus_seconds(3600).epoch_seconds();
    let parts: Vec<&str> = real.split('.').collect();
    let forged = [
        // alg: none, unsigned
        format!(
            "{}.{}.",
            b64(r#"{"alg":"none","typ":"JWT"}"#),
            b64(&format!(r#"{{"sub":"{name}","iat":1,"exp":{exp}}}"#))
        ),
        // a changed payload under the real signature
        format!("{}.{}.{}", parts[0], b64(&format!(r#"{{"sub":"{name}","iat":1,"exp":{}}}"#, exp + 999_999)), parts[2]),
        // signed with a wrong key
        JwtKeys::new(b"wrong-key-wrong-key-wrong-key-wrong", 3600).unwrap().issue(&username, Timestamp::now()).token,
        // expired
        JwtKeys::new(notes_local::LOCAL_JWT_SECRET.as_bytes(), 60)
            .unwrap()
            .issue(&username, Timestamp::now().plus_seconds(-7200))
            .token,
    ];
    let id = "0195f1c2-6a4b-7c3d-8e9f-0a1b2c3d4e5f";
    for token in &forged {
        for (method, path) in [
            (GET, "/auth/user".to_owned()),
            (GET, "/notes".into()),
            (POST, "/notes".into()),
            (GET, format!("/notes/{id}")),
            (PUT, format!("/notes/{id}")),
            (DELETE, format!("/notes/{id}")),
        ] {
            let body = matches!(method, Method::POST | Method::PUT).then(|| json!({"content": "x"}));
            assert_error(&stack.call(method.clone(), &path, Some(token), body).await, 401, "unauthorized");
        }
    }
}

#[tokio::test]
async fn cors_allows_the_configured_origin_only() {
    let stack = Stack::start_with(|c| c.allowed_origins = vec!["https://notes.example.com".into()]).await;
    let preflight = |origin: &'static str| {
        stack
            .http
            .request(Method::OPTIONS, stack.url("/notes"))
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "POST")
            .header("Access-Control-Request-Headers", "authorization,content-type")
            .send()
    };
    let allowed = preflight("https://notes.example.com").await.unwrap();
    assert_eq!(allowed.headers()["access-control-allow-origin"], "https://notes.example.com");
    assert!(allowed.headers()["access-control-allow-headers"].to_str().unwrap().contains("authorization"));
    let refused = preflight("https://evil.example").await.unwrap();
    assert!(refused.headers().get("access-control-allow-origin").is_none());
}
