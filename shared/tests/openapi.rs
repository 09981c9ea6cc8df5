//! `shared/openapi.yaml` describes what the suite serves: exactly the HTTP routes the functions
//! declare in `shared/topology.json`, each with its success statuses and its errors in the one
//! error shape, with the codes and statuses the code answers, and schemas that the values the
//! code returns satisfy. Every list here is read from the two documents or the code; none is
//! kept by hand.

use std::collections::BTreeSet;

use notes_core::ApiError;
use notes_core::domain::{Note, NoteContent, NoteId, NoteStatus, Timestamp, Username};
use notes_core::topology::topology;
use serde_json::{Value, json};

const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

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

/// Every operation of a served route: (method, path, operation).
fn served_operations(doc: &Value) -> Vec<(String, String, &Value)> {
    topology()
        .http_routes()
        .map(|(_, route)| (route.method.clone(), route.path.clone(), operation(doc, &route.method, &route.path)))
        .collect()
}

fn requires_bearer(doc: &Value, op: &Value) -> bool {
    // An operation's own `security` overrides the document's default.
    let security = op.get("security").unwrap_or(&doc["security"]);
    security.as_array().unwrap().iter().any(|requirement| requirement.get("bearerAuth").is_some())
}

#[test]
fn every_operation_documents_a_success_status() {
    let doc = document();
    for (method, path, op) in served_operations(&doc) {
        let responses = op["responses"].as_object().unwrap();
        assert!(responses.keys().any(|s| s.starts_with('2')), "{method} {path} documents no success");
    }
}

#[test]
fn every_documented_error_is_one_the_code_answers_with_its_status_and_shape() {
    let doc = document();
    let answered: Vec<(String, &'static str)> =
        ApiError::one_of_each().iter().map(|e| (e.status().as_u16().to_string(), e.code())).collect();
    for (method, path, op) in served_operations(&doc) {
        for (status, response) in op["responses"].as_object().unwrap() {
            if !status.starts_with('4') && !status.starts_with('5') {
                continue;
            }
            let content = &deref(&doc, response)["content"]["application/json"];
            assert_eq!(
                deref(&doc, &content["schema"]),
                &doc["components"]["schemas"]["Error"],
                "{method} {path} {status}"
            );
            let code = content["example"]["error"].as_str().unwrap_or_default();
            assert!(
                answered.iter().any(|(s, c)| s == status && *c == code),
                "{method} {path} documents {status} {code:?}, which the code never answers"
            );
        }
    }
}

#[test]
fn the_error_schema_lists_exactly_the_codes_the_api_answers() {
    let doc = document();
    let listed: BTreeSet<&str> = doc["components"]["schemas"]["Error"]["properties"]["error"]["enum"]
        .as_array()
        .expect("the Error schema lists its codes")
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    let answered: BTreeSet<&str> = ApiError::one_of_each().iter().map(ApiError::code).collect();
    assert_eq!(listed, answered);
}

#[test]
fn bearer_routes_use_the_bearer_scheme_and_document_401() {
    let doc = document();
    let scheme = &doc["components"]["securitySchemes"]["bearerAuth"];
    assert_eq!((scheme["type"].as_str(), scheme["scheme"].as_str()), (Some("http"), Some("bearer")));
    for (method, path, op) in served_operations(&doc) {
        if requires_bearer(&doc, op) {
            assert!(op["responses"].get("401").is_some(), "{method} {path} does not document 401");
        }
    }
}

#[test]
fn routes_with_a_body_document_400_and_413() {
    let doc = document();
    for (method, path, op) in served_operations(&doc) {
        if op.get("requestBody").is_some() {
            assert!(op["responses"].get("400").is_some(), "{method} {path} takes a body but does not document 400");
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
        version: 1,
    };
    assert_valid(&doc, "Note", &serde_json::to_value(&note).unwrap());
    note.updated_at = Some(now);
    let value = serde_json::to_value(&note).unwrap();
    assert_valid(&doc, "Note", &value);
    assert_valid(&doc, "NotesPage", &json!({"notes": [value], "nextCursor": "djE6"}));
    let failed = notes_core::domain::lifecycle::FailedNote {
        note_id: NoteId::new(),
        username: Username::parse("alice").unwrap(),
        error: "Your note was not saved because it could not be stored.".into(),
        created_at: now,
        failed_at: now,
        version: 1,
        expires_at: now.plus_seconds(60),
    };
    let failed = serde_json::to_value(&failed).unwrap();
    assert_eq!(failed["status"], "failed");
    assert!(failed.get("expiresAt").is_none());
    assert_valid(&doc, "OwnNote", &failed);
    assert_valid(&doc, "OwnNotesPage", &json!({"notes": [value, failed]}));
}

#[test]
fn the_note_schema_refuses_what_the_contract_forbids() {
    let doc = document();
    let schema = json!({"$ref": "#/components/schemas/Note", "components": doc["components"]});
    let validator = jsonschema::validator_for(&schema).unwrap();
    let good = json!({
        "noteId": NoteId::new().to_string(), "username": "alice", "content": "hi", "isPublic": false,
        "status": "saved", "createdAt": "2026-11-23T10:15:30.123Z", "savedAt": "2026-11-23T10:15:30.456Z",
        "version": 1,
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
    for err in ApiError::one_of_each() {
        assert_valid(&doc, "Error", &serde_json::to_value(err.body()).unwrap());
    }
}

/// The operations that take `parameter` (a `#/components/parameters/…` name).
fn operations_taking<'a>(doc: &'a Value, parameter: &str) -> Vec<(String, String, &'a Value)> {
    let reference = format!("#/components/parameters/{parameter}");
    served_operations(doc)
        .into_iter()
        .filter(|(_, _, op)| op["parameters"].as_array().into_iter().flatten().any(|p| p["$ref"] == reference.as_str()))
        .collect()
}

#[test]
fn a_cursor_the_server_did_not_make_is_documented_as_400_where_a_cursor_is_taken() {
    let doc = document();
    let cursor = &doc["components"]["parameters"]["Cursor"];
    let description = cursor["description"].as_str().unwrap();
    assert!(description.contains("400") && description.contains("invalid_request"), "{description}");
    let paginated = operations_taking(&doc, "Cursor");
    assert_eq!(paginated.len(), 2, "GET /notes and GET /notes/public");
    for (method, path, op) in paginated {
        let response = deref(&doc, &op["responses"]["400"]);
        let example = &response["content"]["application/json"]["example"];
        assert_eq!(example["error"], "invalid_request", "{method} {path}");
        // The message the code answers for a cursor it did not make.
        let answered = notes_core::edge::pagination::decode_cursor("not-a-cursor").unwrap_err();
        assert_eq!(example["message"], answered.body().message, "{method} {path}");
    }
    // Every cursor the server makes fits the parameter's pattern; the one the document shows is one.
    let pattern = regex_of(&cursor["schema"]);
    for _ in 0..100 {
        let made = notes_core::edge::pagination::encode_cursor(NoteId::new());
        assert!(pattern.is_valid(&json!(made)), "{made}");
    }
    let example = doc["components"]["schemas"]["Cursor"]["examples"][0].as_str().unwrap();
    notes_core::edge::pagination::decode_cursor(example).expect("the documented example is a real cursor");
    assert_valid(&doc, "Cursor", &json!(example));
}

/// A validator for a `{type: string, pattern}` schema.
fn regex_of(schema: &Value) -> jsonschema::Validator {
    jsonschema::validator_for(schema).expect("a valid schema")
}

#[test]
fn post_notes_documents_what_a_reused_idempotency_key_answers() {
    let doc = document();
    let keyed = operations_taking(&doc, "IdempotencyKey");
    assert_eq!(keyed.len(), 1, "POST /notes");
    for (method, path, op) in keyed {
        for (status, code) in [("422", "idempotency_key_reused"), ("410", "note_deleted")] {
            let response = deref(&doc, &op["responses"][status]);
            let content = &response["content"]["application/json"];
            assert_eq!(
                deref(&doc, &content["schema"]),
                &doc["components"]["schemas"]["Error"],
                "{method} {path} {status}"
            );
            assert_eq!(content["example"]["error"], code, "{method} {path} {status}");
        }
    }
}

#[test]
fn the_content_pattern_says_white_space_and_control_characters_as_the_code_does() {
    // A note of one character is refused (as "only white space", or as a control character)
    // exactly when the document's pattern refuses it: every character up to U+3000 (the last
    // White_Space one), and those regular-expression engines disagree on.
    let doc = document();
    let content = jsonschema::validator_for(&doc["components"]["schemas"]["Content"]).expect("a valid schema");
    let chars = (0..=0x3000u32).chain([0x180e, 0x200b, 0xfeff]).filter_map(char::from_u32);
    for c in chars {
        let text = c.to_string();
        assert_eq!(
            content.is_valid(&json!(text)),
            NoteContent::parse(text.clone()).is_ok(),
            "U+{:04X}: the document and the code disagree",
            c as u32
        );
    }
    assert!(content.is_valid(&json!(" \u{a0}x\u{3000}\tand\r\n")));
    assert!(!content.is_valid(&json!(" \u{a0}\u{3000}\n")));
    for control in ['\u{1}', '\u{b}', '\u{7f}', '\u{85}'] {
        let text = format!("a{control}b");
        assert!(!content.is_valid(&json!(text)), "U+{:04X}", control as u32);
        assert!(NoteContent::parse(text).is_err(), "U+{:04X}", control as u32);
    }
}
