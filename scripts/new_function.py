#!/usr/bin/env python3
"""Creates a function's crate from its declaration: `make function NAME=get-note-history`.

Declare the function first, under `functions` in shared/topology.json (docs/adding-a-function.md).
This writes functions/NAME/ with its Cargo.toml (the `cargo lambda` environment block included,
read from the declared `environment`), a one-line src/main.rs, src/lib.rs with the handler for
its trigger kind and tests/NAME.rs with a first test, and adds the crate to local/Cargo.toml,
whose build script generates the local stack's list of functions. It refuses to overwrite a
crate that exists. What the handler does is then yours to write.
"""

import json
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# What `cargo lambda watch` gives each declared variable against `make local`'s stack.
LOCAL_ENV = {
    "TABLE_NAME": [("TABLE_NAME", "notes-local")],
    "EVENT_BUS_NAME": [("EVENT_BUS_NAME", "notes-local-bus")],
    "JWT_SECRET_ARN": [("JWT_SECRET", "local-development-secret-not-for-aws-0123456789")],
    "JWT_TTL_SECONDS": [("JWT_TTL_SECONDS", "86400")],
    "WEBSOCKET_MANAGEMENT_ENDPOINT": [("WEBSOCKET_MANAGEMENT_ENDPOINT", "http://127.0.0.1:3001")],
    "BROADCAST_QUEUE_URL": [
        ("BROADCAST_QUEUE_URL", "http://127.0.0.1:3002/123456789012/notes-local-broadcast-shards")
    ],
}


def type_name(name: str) -> str:
    return "".join(word[:1].upper() + word[1:] for word in name.split("-"))


def cargo_toml(name: str, decl: dict) -> str:
    env = [("RUST_LOG", "info"), ("AWS_ENDPOINT_URL", "http://127.0.0.1:3002"),
           ("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:3003"), ("AWS_REGION", "us-east-1"),
           ("AWS_ACCESS_KEY_ID", "local"), ("AWS_SECRET_ACCESS_KEY", "local")]
    for variable in decl["environment"]:
        env += LOCAL_ENV.get(variable, [])
    env_lines = "\n".join(f'{k} = "{v}"' for k, v in env)
    return f"""[package]
name = "{name}"
version = "0.1.0"
edition.workspace = true
rust-version.workspace = true
license.workspace = true
publish.workspace = true

[dependencies]
notes-core.workspace = true
async-trait.workspace = true
aws_lambda_events.workspace = true
lambda_http.workspace = true
http.workspace = true
serde_json.workspace = true
tracing.workspace = true

[dev-dependencies]
notes-core = {{ workspace = true, features = ["fakes"] }}
tokio = {{ workspace = true, features = ["test-util"] }}

# `cargo lambda watch` + `cargo lambda invoke` against the local stack (`make local`, README):
# its emulator (fixed port), its resources (prefix notes-local) and its public development key,
# which signs nothing that AWS accepts. Dummy credentials: the emulator takes any.
[package.metadata.lambda.env]
{env_lines}
"""


def http_lib(name: str, ty: str, route: dict, bearer: bool) -> str:
    key = f'{route["method"]} {route["path"]}'
    if bearer:
        fields, build, new_args, new_fields = (
            "    keys: JwtKeys,\n", "settings.jwt_keys().await?", "keys: JwtKeys", "keys")
        check = "        let _caller = authenticate(&self.keys, request)?;\n"
        imports = "use notes_core::edge::auth::JwtKeys;\nuse notes_core::edge::http::{api_request_id, authenticate, json_response, respond};\n"
    else:
        fields, build, new_args, new_fields = ("", "", "", "")
        check = ""
        imports = "use notes_core::edge::http::{api_request_id, json_response, respond};\n"
    return f"""//! `{key}`: what it answers, and to whom.

use async_trait::async_trait;
use lambda_http::{{Body, Request, Response}};
use notes_core::ApiError;
use notes_core::edge::config::ConfigError;
use notes_core::edge::function::{{Function, Http, HttpFunction, Settings}};
{imports}use tracing::Instrument as _;

pub struct {ty} {{
{fields}}}

impl {ty} {{
    pub fn new({new_args}) -> Self {{
        Self {{ {new_fields} }}
    }}

    async fn answer(&self, request: &Request) -> Result<Response<Body>, ApiError> {{
{check}        let _ = request;
        Ok(json_response(http::StatusCode::OK, &serde_json::json!({{}})))
    }}
}}

impl Function for {ty} {{
    const NAME: &'static str = env!("CARGO_PKG_NAME");
    type Trigger = Http;

    async fn build(settings: &Settings) -> Result<Self, ConfigError> {{
        Ok(Self::new({build}))
    }}
}}

#[async_trait]
impl HttpFunction for {ty} {{
    async fn handle(&self, request: Request) -> Response<Body> {{
        let span = tracing::info_span!("{name.replace('-', '_')}", correlationId = %api_request_id(&request));
        respond(self.answer(&request).instrument(span).await)
    }}
}}
"""


def http_test(name: str, ty: str, route: dict, bearer: bool) -> str:
    key = f'{route["method"]} {route["path"]}'
    path = re.sub(r"\{(\w+)\}", "0190a8a0-0000-7000-8000-000000000000", route["path"])
    params = "".join(f'.path_param("{p}", "0190a8a0-0000-7000-8000-000000000000")'
                     for p in re.findall(r"\{(\w+)\}", route["path"]))
    if bearer:
        return f"""//! `{key}`, one behaviour per test.

use {name.replace('-', '_')}::{ty};
use notes_core::adapters::fakes::{{ApiRequest, HttpWorld, jwt_keys, send}};

#[tokio::test]
async fn a_request_without_a_token_is_refused_with_401() {{
    let w = HttpWorld::new(|_table, _bus| {ty}::new(jwt_keys()));
    let request = ApiRequest::new("{key}", "{path}"){params};
    let (status, body) = send(&w, request).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("unauthorized")));
}}
"""
    return f"""//! `{key}`, one behaviour per test.

use {name.replace('-', '_')}::{ty};
use notes_core::adapters::fakes::{{ApiRequest, HttpWorld, send}};

#[tokio::test]
async fn the_route_answers_200() {{
    let w = HttpWorld::new(|_table, _bus| {ty}::new());
    let request = ApiRequest::new("{key}", "{path}"){params};
    let (status, _) = send(&w, request).await;
    assert_eq!(status, 200);
}}
"""


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__.strip().splitlines()[0], file=sys.stderr)
        return 2
    name = sys.argv[1]
    topology = json.loads((REPO / "shared/topology.json").read_text())
    decl = topology["functions"].get(name)
    if decl is None:
        print(f"{name} is not declared under functions in shared/topology.json; declare it first", file=sys.stderr)
        return 2
    crate = REPO / "functions" / name
    if crate.exists():
        print(f"functions/{name} exists already", file=sys.stderr)
        return 2
    trigger = decl["trigger"]
    if "http" not in trigger:
        print("the scaffold writes HTTP functions; for a WebSocket, queue or rule function copy the "
              "crate of one of that kind (docs/adding-a-function.md names them)", file=sys.stderr)
        return 2
    ty = type_name(name)
    bearer = "JWT_SECRET_ARN" in decl["environment"] and not decl.get("hashesPasswords", False)
    (crate / "src").mkdir(parents=True)
    (crate / "tests").mkdir()
    (crate / "Cargo.toml").write_text(cargo_toml(name, decl))
    (crate / "src/main.rs").write_text(f"notes_core::lambda_main!({name.replace('-', '_')}::{ty});\n")
    (crate / "src/lib.rs").write_text(http_lib(name, ty, trigger["http"], bearer))
    (crate / "tests" / f"{name.replace('-', '_')}.rs").write_text(http_test(name, ty, trigger["http"], bearer))

    local = REPO / "local/Cargo.toml"
    lines = local.read_text().split("\n")
    deps = [i for i, line in enumerate(lines) if re.match(r'^[a-z0-9-]+ = \{ path = "\.\./functions/', line)]
    entries = sorted([lines[i] for i in deps] + [f'{name} = {{ path = "../functions/{name}" }}'])
    lines[deps[0]:deps[-1] + 1] = entries
    local.write_text("\n".join(lines))
    print(f"created functions/{name} (Cargo.toml, src/main.rs, src/lib.rs, tests/{name.replace('-', '_')}.rs) "
          f"and added it to local/Cargo.toml; now document its route in shared/openapi.yaml")
    return 0


if __name__ == "__main__":
    sys.exit(main())
