//! Every HTTP route the suite serves and the function behind it. The local stack dispatches
//! from this table; tests hold it equal to `shared/routes.json` (which the CDK app builds its APIs
//! from) and to the OpenAPI document (`shared/openapi.yaml`).

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tables_equal_routes_json_which_the_cdk_app_reads() {
        let file: serde_json::Value = serde_json::from_str(include_str!("../routes.json")).unwrap();
        let http: Vec<(String, String, String)> = file["http"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["method"].as_str().unwrap().into(),
                    r["path"].as_str().unwrap().into(),
                    r["function"].as_str().unwrap().into(),
                )
            })
            .collect();
        let ours: Vec<(String, String, String)> =
            HTTP_ROUTES.iter().map(|(m, p, f)| ((*m).into(), (*p).into(), (*f).into())).collect();
        assert_eq!(http, ours);
        let websocket: Vec<(String, String)> = file["webSocket"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| (r["route"].as_str().unwrap().into(), r["function"].as_str().unwrap().into()))
            .collect();
        let ours: Vec<(String, String)> = WEBSOCKET_ROUTES.iter().map(|(r, f)| ((*r).into(), (*f).into())).collect();
        assert_eq!(websocket, ours);
    }
}
