//! Serves the built frontend (`frontend/build`) with the runtime `/config.json` it reads at
//! start, and `index.html` for any other path (the app is a single-page app).

use std::path::PathBuf;

use axum::Router;
use axum::routing::get;
use serde::Serialize;
use tokio::net::TcpListener;
use tower_http::services::{ServeDir, ServeFile};

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RuntimeConfig {
    pub api_url: String,
    pub ws_url: String,
}

pub async fn serve(listener: TcpListener, dir: PathBuf, config: RuntimeConfig) {
    let app = Router::new()
        .route("/config.json", get(move || async move { axum::Json(config) }))
        .fallback_service(ServeDir::new(&dir).fallback(ServeFile::new(dir.join("index.html"))));
    if let Err(err) = axum::serve(listener, app).await {
        tracing::error!(error = %err, "frontend server stopped");
    }
}
