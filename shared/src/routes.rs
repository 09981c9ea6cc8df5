//! Every HTTP route the suite serves and the function behind it. The local stack dispatches
//! from this table, and a test holds the OpenAPI document (`shared/openapi.yaml`) to it.

/// (method, API Gateway path, function crate)
pub const HTTP_ROUTES: &[(&str, &str, &str)] = &[
    ("POST", "/auth/signup", "signup"),
    ("POST", "/auth/login", "login"),
    ("GET", "/auth/user", "get-user"),
    ("POST", "/notes", "publish-note"),
    ("GET", "/notes", "get-notes"),
    ("GET", "/notes/public", "get-public-notes"),
    ("GET", "/notes/{noteId}", "get-note"),
    ("PUT", "/notes/{noteId}", "update-note"),
    ("DELETE", "/notes/{noteId}", "delete-note"),
];

/// WebSocket routes and their functions.
pub const WEBSOCKET_ROUTES: &[(&str, &str)] =
    &[("$connect", "connect"), ("$disconnect", "disconnect"), ("$default", "ws-default")];
