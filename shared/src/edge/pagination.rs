//! `limit` and the opaque `cursor` of the list routes.
//!
//! A cursor names only the last note id of the page before. The query's partition always comes
//! from the route (the caller's own notes, or the public feed), never from the cursor, so no
//! cursor, however made, can reach another user's notes; one that does not decode is a 400.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use serde::Serialize;

use crate::domain::lifecycle::OwnNote;
use crate::domain::{Note, NoteId};
use crate::edge::error::ApiError;
use crate::edge::http::{MAX_LAMBDA_RESPONSE_BYTES, json_string_len};
use crate::ports::{Page, PageRequest};

pub const DEFAULT_LIMIT: usize = 20;
pub const MAX_LIMIT: usize = 100;
const CURSOR_PREFIX: &str = "v1:";

/// The body of the list routes: one page, newest first; `nextCursor` is left out on the last page.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NotesPage<T = Note> {
    pub notes: Vec<T>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// What a page's notes may take, written as Lambda returns them (the body as a JSON string
/// inside its envelope): Lambda's 6 MB less room for the envelope, the headers and the cursor.
pub const PAGE_BUDGET_BYTES: usize = MAX_LAMBDA_RESPONSE_BYTES - 64 * 1024;

/// An item of a list route, named by its note id.
pub trait Listed: Serialize {
    fn listed_id(&self) -> NoteId;
}

impl Listed for Note {
    fn listed_id(&self) -> NoteId {
        self.note_id
    }
}

impl Listed for OwnNote {
    fn listed_id(&self) -> NoteId {
        self.note_id()
    }
}

impl<T: Listed> From<Page<T>> for NotesPage<T> {
    /// The page, cut where its notes would pass [`PAGE_BUDGET_BYTES`]: a page is bounded by
    /// DynamoDB's 1 MB of stored bytes, but a stored note may be deflated, and its escaped JSON can
    /// be many times that. A cut page keeps a `nextCursor` after its last note, as a page cut by
    /// the 1 MB does, so the next page starts where it stopped.
    fn from(page: Page<T>) -> Self {
        let mut used = 0;
        let mut notes = Vec::with_capacity(page.items.len());
        let mut items = page.items.into_iter();
        for note in items.by_ref() {
            let json = serde_json::to_string(&note).expect("a note serializes");
            used += json_string_len(&json) + 1;
            if used > PAGE_BUDGET_BYTES && !notes.is_empty() {
                let last: &T = notes.last().expect("not empty");
                return NotesPage { next_cursor: Some(encode_cursor(last.listed_id())), notes };
            }
            notes.push(note);
        }
        NotesPage { notes, next_cursor: page.next.map(encode_cursor) }
    }
}

pub fn encode_cursor(after: NoteId) -> String {
    URL_SAFE_NO_PAD.encode(format!("{CURSOR_PREFIX}{after}"))
}

pub fn decode_cursor(cursor: &str) -> Result<NoteId, ApiError> {
    let invalid = || ApiError::invalid("cursor is not valid");
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    let id = text.strip_prefix(CURSOR_PREFIX).ok_or_else(invalid)?;
    NoteId::parse(id).map_err(|_| invalid())
}

/// The page asked for by `?limit=&cursor=`.
pub fn page_request(limit: Option<&str>, cursor: Option<&str>) -> Result<PageRequest, ApiError> {
    let limit = match limit {
        None => DEFAULT_LIMIT,
        Some(raw) => match raw.parse::<usize>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
            _ => {
                return Err(ApiError::invalid(format!("limit must be a whole number from 1 to {MAX_LIMIT}")));
            }
        },
    };
    let after = cursor.filter(|c| !c.is_empty()).map(decode_cursor).transpose()?;
    Ok(PageRequest { limit, after })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_round_trips_and_is_url_safe() {
        let id = NoteId::new();
        let cursor = encode_cursor(id);
        assert!(cursor.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        assert_eq!(decode_cursor(&cursor).unwrap(), id);
    }

    #[test]
    fn a_tampered_cursor_is_a_bad_request() {
        let cursor = encode_cursor(NoteId::new());
        let mut tampered = cursor.clone();
        tampered.replace_range(0..2, "zz");
        for bad in [tampered.as_str(), "%%%", "djE6bm90LWEtdXVpZA", &URL_SAFE_NO_PAD.encode("USER#bob")] {
            let err = decode_cursor(bad).unwrap_err();
            assert_eq!(err.code(), "invalid_request", "{bad}");
        }
    }

    #[cfg(feature = "fakes")]
    /// A stored note whose JSON escapes to far more than it stores: written before control
    /// characters were refused, read back from the table as it is.
    fn escaping_note(chars: usize) -> Note {
        let mut note = serde_json::to_value(crate::adapters::fakes::note("alice", "x", true)).unwrap();
        note["content"] = serde_json::Value::String("\u{1}".repeat(chars));
        serde_json::from_value(note).unwrap()
    }

    #[cfg(feature = "fakes")]
    #[test]
    fn a_page_is_cut_before_it_passes_lambdas_response_limit_and_keeps_a_cursor_after_its_last_note() {
        let notes: Vec<Note> = (0..100).map(|_| escaping_note(10_000)).collect();
        let page = NotesPage::from(Page { items: notes.clone(), next: None });
        let body = serde_json::to_string(&page).unwrap();
        assert!(json_string_len(&body) <= MAX_LAMBDA_RESPONSE_BYTES, "{} bytes", json_string_len(&body));
        assert!(page.notes.len() < 100 && !page.notes.is_empty(), "{} notes", page.notes.len());
        assert_eq!(page.notes[..], notes[..page.notes.len()]);
        let cursor = page.next_cursor.expect("a cut page says where to go on");
        assert_eq!(decode_cursor(&cursor).unwrap(), page.notes.last().unwrap().note_id);
    }

    #[cfg(feature = "fakes")]
    #[test]
    fn a_page_within_the_limit_is_whole_and_keeps_its_own_cursor() {
        let notes: Vec<Note> = (0..100).map(|_| escaping_note(100)).collect();
        let next = NoteId::new();
        let page = NotesPage::from(Page { items: notes, next: Some(next) });
        assert_eq!(page.notes.len(), 100);
        assert_eq!(page.next_cursor, Some(encode_cursor(next)));
    }

    #[test]
    fn limit_defaults_to_20_and_must_be_1_to_100() {
        assert_eq!(page_request(None, None).unwrap().limit, 20);
        assert_eq!(page_request(Some("100"), None).unwrap().limit, 100);
        for bad in ["0", "101", "-1", "ten", "1.5", ""] {
            assert!(page_request(Some(bad), None).is_err(), "{bad}");
        }
    }
}
