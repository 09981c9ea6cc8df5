//! The functions the local stack runs behind its APIs, each built by its own `Function::build`
//! from the stack's settings, as its Lambda binary builds it from the environment. Which route
//! invokes which function is the declaration's (`shared/topology.json`), read by the routers;
//! this is only the list of handler types, which Rust needs to link them. A test holds it to the
//! declarations, so a function cannot be declared without being run here, or the reverse.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use lambda_http::{Body, Request, Response};
use notes_core::config::ConfigError;
use notes_core::function::{HttpFunction, Settings, WebSocketFunction};

use crate::invocations::Invocations;

/// An HTTP function, whatever its type.
#[async_trait]
pub trait HttpEndpoint: Send + Sync {
    async fn call(&self, request: Request) -> Response<Body>;
}

#[async_trait]
impl<F: HttpFunction> HttpEndpoint for F {
    async fn call(&self, request: Request) -> Response<Body> {
        self.handle(request).await
    }
}

/// A WebSocket function, whatever its type.
#[async_trait]
pub trait WebSocketEndpoint: Send + Sync {
    async fn call(&self, request: ApiGatewayWebsocketProxyRequest) -> ApiGatewayProxyResponse;
}

#[async_trait]
impl<F: WebSocketFunction> WebSocketEndpoint for F {
    async fn call(&self, request: ApiGatewayWebsocketProxyRequest) -> ApiGatewayProxyResponse {
        self.handle(request).await
    }
}

/// A function whose every invocation is counted and timed.
struct Counted<F> {
    name: &'static str,
    function: F,
    invocations: Invocations,
}

#[async_trait]
impl<F: HttpFunction> HttpEndpoint for Counted<F> {
    async fn call(&self, request: Request) -> Response<Body> {
        self.invocations.time(self.name, self.function.handle(request)).await
    }
}

#[async_trait]
impl<F: WebSocketFunction> WebSocketEndpoint for Counted<F> {
    async fn call(&self, request: ApiGatewayWebsocketProxyRequest) -> ApiGatewayProxyResponse {
        self.invocations.time(self.name, self.function.handle(request)).await
    }
}

/// The built API functions, by name. (`save-note`, `broadcast` and `notify` are built by their pollers.)
#[derive(Default)]
pub struct Functions {
    http: BTreeMap<&'static str, Arc<dyn HttpEndpoint>>,
    websocket: BTreeMap<&'static str, Arc<dyn WebSocketEndpoint>>,
    invocations: Invocations,
}

impl Functions {
    /// Every API function, built from `settings`; their invocations are counted in `invocations`.
    pub async fn build(settings: &Settings, invocations: &Invocations) -> Result<Self, ConfigError> {
        let mut functions = Functions { invocations: invocations.clone(), ..Functions::default() };
        functions.add_http::<signup::Signup>(settings).await?;
        functions.add_http::<login::Login>(settings).await?;
        functions.add_http::<get_user::GetUser>(settings).await?;
        functions.add_http::<publish_note::PublishNote>(settings).await?;
        functions.add_http::<get_notes::GetNotes>(settings).await?;
        functions.add_http::<get_public_notes::GetPublicNotes>(settings).await?;
        functions.add_http::<get_note::GetNote>(settings).await?;
        functions.add_http::<update_note::UpdateNote>(settings).await?;
        functions.add_http::<delete_note::DeleteNote>(settings).await?;
        functions.add_websocket::<connect::Connect>(settings).await?;
        functions.add_websocket::<disconnect::Disconnect>(settings).await?;
        functions.add_websocket::<ws_default::WsDefault>(settings).await?;
        Ok(functions)
    }

    async fn add_http<F: HttpFunction>(&mut self, settings: &Settings) -> Result<(), ConfigError> {
        let function = F::build(settings).await?;
        self.http.insert(F::NAME, Arc::new(Counted { name: F::NAME, function, invocations: self.invocations.clone() }));
        Ok(())
    }

    async fn add_websocket<F: WebSocketFunction>(&mut self, settings: &Settings) -> Result<(), ConfigError> {
        let function = F::build(settings).await?;
        let counted = Counted { name: F::NAME, function, invocations: self.invocations.clone() };
        self.websocket.insert(F::NAME, Arc::new(counted));
        Ok(())
    }

    pub fn http(&self, name: &str) -> Option<Arc<dyn HttpEndpoint>> {
        self.http.get(name).cloned()
    }

    pub fn websocket(&self, name: &str) -> Option<Arc<dyn WebSocketEndpoint>> {
        self.websocket.get(name).cloned()
    }

    /// The names of every function built here.
    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.http.keys().chain(self.websocket.keys()).copied()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use notes_core::auth::JwtKeys;
    use notes_core::function::Function;
    use notes_core::topology::{Trigger, topology};

    use super::*;

    async fn built() -> Functions {
        let sdk = aws_config::SdkConfig::builder().behavior_version(aws_config::BehaviorVersion::latest()).build();
        let keys = JwtKeys::new(crate::LOCAL_JWT_SECRET.as_bytes(), 60).unwrap();
        let settings = Settings::given(sdk, keys).with_table("t").with_bus("b").with_management_endpoint("http://m");
        Functions::build(&settings, &Invocations::default())
            .await
            .expect("every function builds from the stack's settings")
    }

    #[tokio::test]
    async fn every_declared_api_function_is_run_and_nothing_else() {
        let functions = built().await;
        let declared: BTreeSet<&str> = topology()
            .functions
            .iter()
            .filter(|(_, f)| matches!(f.trigger, Trigger::Http(_) | Trigger::WebSocket(_)))
            .map(|(name, _)| name.as_str())
            .collect();
        assert_eq!(functions.names().collect::<BTreeSet<_>>(), declared);
        for (name, f) in &topology().functions {
            match &f.trigger {
                Trigger::Http(_) => assert!(functions.http(name).is_some(), "{name} is not an HTTP function"),
                Trigger::WebSocket(_) => assert!(functions.websocket(name).is_some(), "{name} is not a WebSocket one"),
                _ => {}
            }
        }
    }

    #[test]
    fn the_pollers_run_the_functions_declared_on_the_queues_and_the_rule() {
        let by_trigger = |wanted: &Trigger| {
            topology().functions.iter().find(|(_, f)| &f.trigger == wanted).map(|(name, _)| name.as_str())
        };
        assert_eq!(by_trigger(&Trigger::Queue("noteCreated".into())), Some(<save_note::SaveNote as Function>::NAME));
        assert_eq!(
            by_trigger(&Trigger::Queue("broadcastShards".into())),
            Some(<broadcast::Broadcast as Function>::NAME)
        );
        assert_eq!(by_trigger(&Trigger::Rule("noteResultsToNotify".into())), Some(<notify::Notify as Function>::NAME));
    }
}
