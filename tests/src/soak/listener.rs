//! A user's WebSocket listener for the soak: everything it received, when, across reconnects.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::{SinkExt as _, StreamExt as _};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

/// One message a listener received.
pub(super) struct Received {
    pub(super) at: Instant,
    pub(super) message: Value,
}

/// A user's WebSocket listener: it reconnects when the connection drops (as the app does).
pub(super) struct Listener {
    pub(super) received: Arc<Mutex<Vec<Received>>>,
    pub(super) reconnects: Arc<AtomicUsize>,
    pub(super) task: tokio::task::JoinHandle<()>,
}

pub(super) const MAX_RECONNECTS: usize = 10_000;

pub(super) async fn listen(ws_url: String, token: String, stop: Arc<AtomicBool>) -> Result<Listener, String> {
    let protocols = crate::websocket_protocols(&token);
    let request = move || crate::websocket_request(&format!("{ws_url}/"), Some(&protocols));
    let (mut stream, _) = tokio_tungstenite::connect_async(request()).await.map_err(|e| format!("WebSocket: {e}"))?;
    // A ping round trip: the connection is registered before anything is posted.
    stream.send(Message::Text(json!({"action": "ping"}).to_string().into())).await.map_err(|e| e.to_string())?;
    match tokio::time::timeout(Duration::from_secs(20), stream.next()).await {
        Ok(Some(Ok(Message::Text(_)))) => {}
        other => return Err(format!("no pong: {other:?}")),
    }
    let received = Arc::new(Mutex::new(Vec::new()));
    let reconnects = Arc::new(AtomicUsize::new(0));
    let (r, n) = (received.clone(), reconnects.clone());
    let task = tokio::spawn(async move {
        let mut stream = stream;
        loop {
            while let Some(Ok(message)) = stream.next().await {
                if let Message::Text(text) = message
                    && let Ok(message) = serde_json::from_str::<Value>(&text)
                {
                    r.lock().unwrap().push(Received { at: Instant::now(), message });
                }
            }
            // Dropped (a 410 of the fault plan closes it): connect again, a bounded number of times.
            loop {
                if stop.load(Ordering::SeqCst) || n.fetch_add(1, Ordering::SeqCst) >= MAX_RECONNECTS {
                    return;
                }
                match tokio_tungstenite::connect_async(request()).await {
                    Ok((s, _)) => {
                        stream = s;
                        break;
                    }
                    Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
                }
            }
        }
    });
    Ok(Listener { received, reconnects, task })
}
