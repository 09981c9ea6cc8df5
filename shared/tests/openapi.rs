//! `shared/openapi.yaml` describes what the suite serves: exactly the HTTP routes the functions
//! declare in `shared/topology.json`, each with the success and error statuses of the contract's table, and
//! schemas that the values the code returns satisfy.

use std::collections::BTreeSet;

use notes_core::ApiError;
use notes_core::domain::{Note, NoteContent, NoteId, NoteStatus, Timestamp, Username};
use notes_core::topology::topology;
use serde_json::{Value, json};

const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

/// One row of the contract's table (section 1).
struct Row {
    method: &'static str,
    path: &'static str,
    bearer: bool,
    /// The success statuses: the contract's, then any the project adds (POST /notes answers 200
    /// to a retry of a note already saved).
    successes: &'static [&'static str],
    /// (status, `error` code)
    errors: &'static [(&'static str, &'static str)],
}

const fn row(
    method: &'static str,
    path: &'static str,
    bearer: bool,
    successes: &'static [&'static str],
    errors: &'static [(&'static str, &'static str)],
) -> Row {
    Row { method, path, bearer, successes, errors }
}

const CONTRACT: &[Row] = &[
    row("POST", "/auth/signup", false, &["201"], &[("400", "invalid_request"), ("409", "username_taken")]),
    row("POST", "/auth/login", false, &["200"], &[("400", "invalid_request"), ("401", "invalid_credentials")]),
    row("GET", "/auth/user", true, &["200"], &[("401", "unauthorized")]),
    row(
        "POST",
        "/notes",
        true,
        &["202", "200"],
        &[
            ("400", "invalid_request"),
            ("401", "unauthorized"),
            ("410", "note_deleted"),
            ("413", "payload_too_large"),
            ("422", "idempotency_key_reused"),
        ],
    ),
    row("GET", "/notes", true, &["200"], &[("400", "invalid_request"), ("401", "unauthorized")]),
    row("GET", "/notes/public", false, &["200"], &[("400", "invalid_request")]),
    row("GET", "/notes/{noteId}", true, &["200"], &[("401", "unauthorized"), ("404", "not_found")]),
    row(
        "PUT",
        "/notes/{noteId}",
        true,
        &["200"],
        &[("400", "invalid_request"), ("401", "unauthorized"), ("404", "not_found")],
    ),
    row("DELETE", "/notes/{noteId}", true, &["204"], &[("401", "unauthorized"), ("404", "not_found")]),
];

fn document() -> Value {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.yaml")).unwrap();
    serde_norway::from_str(&text).expect("openapi.yaml is valid YAML")
}

/// The value a local `$ref` (`#/a/b`) points at.
fn resolve<'a>(doc: &'a Value, reference: &str) -> &'a Value {
    let pointer = reference.strip_prefix('#').unwrap_or_else(|| panic!("{reference} is not a local reference"));
    doc.pointer(pointer).unwrap_or_else(|| panic!("{reference} points at nothing"))
}

/// The value itself, or what its `$ref` points at.
fn deref<'a>(doc: &'a Value, value: &'a Value) -> &'a Value {
    match value.get("$ref").and_then(Value::as_str) {
        Some(reference) => resolve(doc, reference),
        None => value,
    }
}

fn operation<'a>(doc: &'a Value, method: &str, path: &str) -> &'a Value {
    doc["paths"][path].get(method.to_ascii_lowercase()).unwrap_or_else(|| panic!("{method} {path} is not documented"))
}

fn documented_routes(doc: &Value) -> BTreeSet<(String, String)> {
    let mut routes = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths is an object") {
        for method in METHODS {
            if item.get(method).is_some() {
                routes.insert((method.to_ascii_uppercase(), path.clone()));
            }
        }
    }
    routes
}

/// Validates `instance` against the document's schema `name`, with `$ref`s resolved inside it.
fn assert_valid(doc: &Value, name: &str, instance: &Value) {
    let schema = json!({"$ref": format!("#/components/schemas/{name}"), "components": doc["components"]});
    let validator = jsonschema::validator_for(&schema).expect("the schemas are valid JSON Schema");
    let errors: Vec<String> = validator.iter_errors(instance).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{instance} does not match {name}: {errors:?}");
}

#[test]
fn the_document_is_openapi_3_1() {
    let doc = document();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1."), "{}", doc["openapi"]);
    assert!(doc["info"]["title"].is_string() && doc["info"]["version"].is_string());
}

#[test]
fn the_documented_routes_are_exactly_the_served_routes() {
    let documented = documented_routes(&document());
    let served: BTreeSet<(String, String)> =
        topology().http_routes().map(|(_, route)| (route.method.clone(), route.path.clone())).collect();
    let undocumented: Vec<_> = served.difference(&documented).collect();
    let not_served: Vec<_> = documented.difference(&served).collect();
    assert!(undocumented.is_empty(), "served but not documented: {undocumented:?}");
    assert!(not_served.is_empty(), "documented but not served: {not_served:?}");
}

#[test]
fn the_contract_table_covers_every_served_route() {
    let contract: BTreeSet<(&str, &str)> = CONTRACT.iter().map(|r| (r.method, r.path)).collect();
    let served: BTreeSet<(&str, &str)> =
        topology().http_routes().map(|(_, route)| (route.method.as_str(), route.path.as_str())).collect();
    assert_eq!(contract, served);
}

#[test]
fn every_operation_documents_its_success_status() {
    let doc = document();
    for Row { method, path, successes, .. } in CONTRACT {
        let responses = &operation(&doc, method, path)["responses"];
        let documented: BTreeSet<&str> =
            responses.as_object().unwrap().keys().map(String::as_str).filter(|s| s.starts_with('2')).collect();
        assert_eq!(documented, successes.iter().copied().collect(), "{method} {path}");
    }
}

#[test]
fn every_operation_documents_the_contracts_error_statuses_with_their_codes() {
    let doc = document();
    for Row { method, path, errors, .. } in CONTRACT {
        let responses = &operation(&doc, method, path)["responses"];
        for (status, code) in *errors {
            let response = responses
                .get(*status)
                .map(|r| deref(&doc, r))
                .unwrap_or_else(|| panic!("{method} {path} does not document {status}"));
            let content = &response["content"]["application/json"];
            assert_eq!(
                deref(&doc, &content["schema"]),
                &doc["components"]["schemas"]["Error"],
                "{method} {path} {status}"
            );
            assert_eq!(content["example"]["error"], *code, "{method} {path} {status}");
        }
    }
}

#[test]
fn bearer_routes_require_the_token_and_document_401_and_the_others_need_none() {
    let doc = document();
    let scheme = &doc["components"]["securitySchemes"]["bearerAuth"];
    assert_eq!((scheme["type"].as_str(), scheme["scheme"].as_str()), (Some("http"), Some("bearer")));
    for Row { method, path, bearer, .. } in CONTRACT {
        let op = operation(&doc, method, path);
        // An operation's own `security` overrides the document's default.
        let security = op.get("security").unwrap_or(&doc["security"]);
        let requires_bearer =
            security.as_array().unwrap().iter().any(|requirement| requirement.get("bearerAuth").is_some());
        assert_eq!(requires_bearer, *bearer, "{method} {path}");
        if *bearer {
            assert!(op["responses"].get("401").is_some(), "{method} {path} does not document 401");
        }
    }
}

#[test]
fn routes_with_a_body_document_413() {
    let doc = document();
    for Row { method, path, .. } in CONTRACT {
        let op = operation(&doc, method, path);
        if op.get("requestBody").is_some() {
            assert!(op["responses"].get("413").is_some(), "{method} {path} takes a body but does not document 413");
        }
    }
}

#[test]
fn every_reference_points_at_something() {
    fn walk(doc: &Value, value: &Value) {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(reference)) = map.get("$ref") {
                    resolve(doc, reference);
                }
                map.values().for_each(|v| walk(doc, v));
            }
            Value::Array(items) => items.iter().for_each(|v| walk(doc, v)),
            _ => {}
        }
    }
    let doc = document();
    walk(&doc, &doc);
}

#[test]
fn path_parameters_are_declared_for_every_templated_path() {
    let doc = document();
    for (path, item) in doc["paths"].as_object().unwrap() {
        let names: BTreeSet<&str> = path.split('/').filter_map(|s| s.strip_prefix('{')?.strip_suffix('}')).collect();
        let declared: BTreeSet<&str> = item["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|p| deref(&doc, p))
            .filter(|p| p["in"] == "path")
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, declared, "{path}");
    }
}

#[test]
fn notes_as_the_code_serializes_them_match_the_note_schema() {
    let doc = document();
    let now = Timestamp::now();
    let mut note = Note {
        note_id: NoteId::new(),
        username: Username::parse("alice").unwrap(),
        content: NoteContent::parse("hello").unwrap(),
        is_public: true,
        status: NoteStatus::Saved,
        created_at: now,
        saved_at: now,
        updated_at: None,
    };
    assert_valid(&doc, "Note", &serde_json::to_value(&note).unwrap());
    note.updated_at = Some(now);
    let value = serde_json::to_value(&note).unwrap();
    assert_valid(&doc, "Note", &value);
    assert_valid(&doc, "NotesPage", &json!({"notes": [value], "nextCursor": "djE6"}));
}

#[test]
fn the_note_schema_refuses_what_the_contract_forbids() {
    let doc = document();
    let schema = json!({"$ref": "#/components/schemas/Note", "components": doc["components"]});
    let validator = jsonschema::validator_for(&schema).unwrap();
    let good = json!({
        "noteId": NoteId::new().to_string(), "username": "alice", "content": "hi", "isPublic": false,
        "status": "saved", "createdAt": "2026-11-23T10:15:30.123Z", "savedAt": "2026-11-23T10:15:30.456Z",
    });
    assert!(validator.is_valid(&good));
    for (field, bad) in [
        ("username", json!("Alice")),
        ("content", json!("   ")),
        ("status", json!("pending")),
        ("createdAt", json!("2026-11-23T10:15:30Z")),
    ] {
        let mut note = good.clone();
        note[field] = bad;
        assert!(!validator.is_valid(&note), "{field}");
    }
}

#[test]
fn every_error_the_code_answers_matches_the_error_schema() {
    let doc = document();
    let errors = [
        ApiError::invalid("content is required"),
        ApiError::Unauthorized,
        ApiError::InvalidCredentials,
        ApiError::UsernameTaken,
        ApiError::NotFound,
        ApiError::PayloadTooLarge { limit: 65_536 },
        ApiError::Unavailable,
        ApiError::Internal,
    ];
    for err in errors {
        assert_valid(&doc, "Error", &serde_json::to_value(err.body()).unwrap());
    }
}
