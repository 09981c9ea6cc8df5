//! The event bus, through `aws-sdk-eventbridge`.

use async_trait::async_trait;
use aws_sdk_eventbridge::Client;
use aws_sdk_eventbridge::error::DisplayErrorContext;
use aws_sdk_eventbridge::types::PutEventsRequestEntry;

use crate::domain::events::{EVENT_SOURCE, NoteEvent};
use crate::ports::{EventPublisher, PublishError};

/// PutEvents takes at most this many entries per call.
const MAX_ENTRIES_PER_CALL: usize = 10;

#[derive(Clone, Debug)]
pub struct EventBridgeBus {
    client: Client,
    bus: String,
}

impl EventBridgeBus {
    pub fn new(client: Client, bus: impl Into<String>) -> Self {
        Self { client, bus: bus.into() }
    }
}

#[async_trait]
impl EventPublisher for EventBridgeBus {
    async fn publish(&self, events: &[NoteEvent]) -> Result<(), PublishError> {
        for chunk in events.chunks(MAX_ENTRIES_PER_CALL) {
            let entries = chunk
                .iter()
                .map(|event| {
                    PutEventsRequestEntry::builder()
                        .event_bus_name(&self.bus)
                        .source(EVENT_SOURCE)
                        .detail_type(event.event_type().as_str())
                        .detail(event.to_detail().to_string())
                        .build()
                })
                .collect();
            let out = self
                .client
                .put_events()
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|e| PublishError::Unavailable(DisplayErrorContext(e).to_string()))?;
            // PutEvents answers 200 even when some entries were refused: they must be counted.
            let failed = usize::try_from(out.failed_entry_count).unwrap_or(0);
            if failed > 0 {
                let reason = out
                    .entries()
                    .iter()
                    .find_map(|e| e.error_message().map(str::to_owned))
                    .unwrap_or_else(|| "no reason given".into());
                return Err(PublishError::Rejected { failed, reason });
            }
        }
        Ok(())
    }
}
