//! The table's stream, read as the note transitions it carries: the images of a stream record
//! are items as [`super::notes`] writes them, so they are read by the same code.

use aws_lambda_events::event::dynamodb::{EventRecord, StreamRecord};

use super::Item;
use super::notes::{read_state, state_item};
use crate::adapters::keys;
use crate::domain::lifecycle::{NoteState, Provenance, Transition};
use crate::ports::StoreError;

/// The note transition a stream record carries; `None` for a record of an item that is not a
/// note's (the event source mapping's filter keeps those away, this is the second guard).
pub fn transition_of(record: &EventRecord) -> Result<Option<Transition>, StoreError> {
    let is_note_key = match record.change.keys.get(keys::SK) {
        Some(serde_dynamo::AttributeValue::S(sk)) => sk.starts_with(keys::NOTE_SK_PREFIX),
        _ => false,
    };
    if !is_note_key {
        return Ok(None);
    }
    let before = image(&record.change.old_image)?;
    let after = image(&record.change.new_image)?;
    let made_by = match (&after, &before) {
        (Some((_, made_by)), _) | (None, Some((_, made_by))) => made_by.clone(),
        (None, None) => return Ok(None),
    };
    Ok(Some(Transition { before: before.map(|(state, _)| state), after: after.map(|(state, _)| state), made_by }))
}

fn image(image: &serde_dynamo::Item) -> Result<Option<(NoteState, Provenance)>, StoreError> {
    if image.is_empty() {
        return Ok(None);
    }
    let item: Item = image.clone().into();
    read_state(item).map(Some)
}

/// The stream record DynamoDB writes for `transition` (`NEW_AND_OLD_IMAGES`), numbered
/// `sequence`: what the in-memory table's stream and the sample events are made of.
pub fn record_of(transition: &Transition, sequence: u64) -> Result<EventRecord, StoreError> {
    let image = |state: &Option<NoteState>| -> Result<serde_dynamo::Item, StoreError> {
        Ok(match state {
            Some(state) => state_item(state, &transition.made_by)?.into(),
            None => serde_dynamo::Item::from(Item::new()),
        })
    };
    let some_state = transition.after.as_ref().or(transition.before.as_ref());
    let key = some_state.map(|state| keys::owner_note(state.username(), state.note_id()));
    let mut change = StreamRecord::default();
    if let Some(key) = key {
        change.keys = serde_dynamo::Item::from(std::collections::HashMap::from([
            (keys::PK.to_owned(), serde_dynamo::AttributeValue::S(key.pk)),
            (keys::SK.to_owned(), serde_dynamo::AttributeValue::S(key.sk)),
        ]));
    }
    change.old_image = image(&transition.before)?;
    change.new_image = image(&transition.after)?;
    change.sequence_number = Some(format!("{sequence:021}"));
    change.approximate_creation_date_time = crate::domain::Timestamp::now().as_datetime();
    let mut record = EventRecord::default();
    record.event_name = match (&transition.before, &transition.after) {
        (None, _) => "INSERT",
        (_, None) => "REMOVE",
        _ => "MODIFY",
    }
    .into();
    record.event_source = Some("aws:dynamodb".into());
    record.change = change;
    Ok(record)
}
