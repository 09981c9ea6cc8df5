//! The note domain: validated value types and the `Note` itself.
//!
//! Every value that crosses a trust boundary (an HTTP body, an SQS record, a table item) is
//! turned into one of these types, so code past the edge never sees an invalid username,
//! note id or content.

pub mod broadcast;
pub mod events;
pub mod lifecycle;
pub mod simulation;

use std::fmt;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use uuid::Uuid;

/// Why a value was refused. `field` names the offending JSON field for the 400 body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ValidationError {
    pub field: &'static str,
    pub message: String,
}

impl ValidationError {
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self { field, message: message.into() }
    }
}

pub const USERNAME_MIN: usize = 3;
pub const USERNAME_MAX: usize = 32;
pub const PASSWORD_MIN: usize = 8;
pub const PASSWORD_MAX: usize = 128;
pub const CONTENT_MAX_CHARS: usize = 10_000;
pub const IDEMPOTENCY_KEY_MAX: usize = 128;
/// Bodies above this size are answered 413 before they are parsed.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// 3 to 32 of `a-z 0-9 _ -`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Username(String);

impl Username {
    pub fn parse(value: impl Into<String>) -> Result<Self, ValidationError> {
        let value = value.into();
        let len = value.chars().count();
        if !(USERNAME_MIN..=USERNAME_MAX).contains(&len) {
            return Err(ValidationError::new(
                "username",
                format!("must be {USERNAME_MIN} to {USERNAME_MAX} characters long"),
            ));
        }
        if !value.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-') {
            return Err(ValidationError::new("username", "may contain only lowercase letters, digits, '_' and '-'"));
        }
        Ok(Self(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Username {
    type Error = ValidationError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(value)
    }
}

impl From<Username> for String {
    fn from(value: Username) -> Self {
        value.0
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// 8 to 128 characters. Never logged, never serialized.
pub struct Password(String);

impl Password {
    pub fn parse(value: impl Into<String>) -> Result<Self, ValidationError> {
        let value = value.into();
        let len = value.chars().count();
        if !(PASSWORD_MIN..=PASSWORD_MAX).contains(&len) {
            return Err(ValidationError::new(
                "password",
                format!("must be {PASSWORD_MIN} to {PASSWORD_MAX} characters long"),
            ));
        }
        Ok(Self(value))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// 1 to 10,000 characters, not only white space; a new one has no control characters but tab,
/// line feed and carriage return.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct NoteContent(String);

impl NoteContent {
    /// A note's content as a person writes it. Control characters are refused: they have no
    /// place in a note's text, and each one is six bytes of JSON (`\u0001`), twelve in Lambda's
    /// envelope, so a 10,000-character note of them would weigh 120 KB in a response.
    pub fn parse(value: impl Into<String>) -> Result<Self, ValidationError> {
        let value = value.into();
        if value.chars().any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r')) {
            return Err(ValidationError::new(
                "content",
                "must not contain control characters other than tabs and line breaks",
            ));
        }
        Self::read(value)
    }

    /// A content read back from an event or the table, as it was accepted: one stored before
    /// control characters were refused still reads.
    fn read(value: String) -> Result<Self, ValidationError> {
        if value.trim().is_empty() {
            return Err(ValidationError::new("content", "must not be empty or only white space"));
        }
        if value.chars().count() > CONTENT_MAX_CHARS {
            return Err(ValidationError::new(
                "content",
                format!("must be at most {CONTENT_MAX_CHARS} characters long"),
            ));
        }
        Ok(Self(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for NoteContent {
    type Error = ValidationError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::read(value)
    }
}

impl From<NoteContent> for String {
    fn from(value: NoteContent) -> Self {
        value.0
    }
}

/// A note's id: a UUID v7, so ids sort by creation time and `NOTE#{id}` sort keys list
/// newest first with a reverse Query, with no timestamp needed to find a note by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NoteId(Uuid);

impl NoteId {
    pub fn new() -> Self {
        Self(simulation::uuid_v7())
    }

    pub fn parse(value: &str) -> Result<Self, ValidationError> {
        // Only the canonical hyphenated lower-case form, so one note has exactly one key.
        let id = Uuid::try_parse(value).map_err(|_| ValidationError::new("noteId", "is not a valid note id"))?;
        if id.hyphenated().to_string() != value {
            return Err(ValidationError::new("noteId", "is not a valid note id"));
        }
        Ok(Self(id))
    }

    pub fn as_uuid(&self) -> Uuid {
        self.0
    }
}

impl Default for NoteId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for NoteId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.hyphenated())
    }
}

impl Serialize for NoteId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for NoteId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        NoteId::parse(&raw).map_err(serde::de::Error::custom)
    }
}

/// An instant, written as RFC 3339 UTC with milliseconds (`2026-11-23T10:15:30.123Z`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(DateTime<Utc>);

impl Timestamp {
    /// The system's time, or the simulation's while this thread runs one ([`simulation`]).
    pub fn now() -> Self {
        match simulation::now_ms().and_then(Self::from_epoch_millis) {
            Some(simulated) => simulated,
            None => Self::from_datetime(Utc::now()),
        }
    }

    /// Truncated to milliseconds, so a value survives a round trip through its text form.
    pub fn from_datetime(at: DateTime<Utc>) -> Self {
        let millis = at.timestamp_millis();
        Self(DateTime::from_timestamp_millis(millis).unwrap_or(at))
    }

    pub fn from_epoch_millis(millis: i64) -> Option<Self> {
        DateTime::from_timestamp_millis(millis).map(Self)
    }

    pub fn parse(value: &str) -> Result<Self, ValidationError> {
        DateTime::parse_from_rfc3339(value)
            .map(|t| Self::from_datetime(t.with_timezone(&Utc)))
            .map_err(|_| ValidationError::new("timestamp", "is not an RFC 3339 timestamp"))
    }

    pub fn as_datetime(&self) -> DateTime<Utc> {
        self.0
    }

    pub fn epoch_seconds(&self) -> i64 {
        self.0.timestamp()
    }

    pub fn epoch_millis(&self) -> i64 {
        self.0.timestamp_millis()
    }

    pub fn plus_seconds(&self, seconds: i64) -> Self {
        Self(self.0 + chrono::Duration::seconds(seconds))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.to_rfc3339_opts(SecondsFormat::Millis, true))
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Timestamp::parse(&raw).map_err(serde::de::Error::custom)
    }
}

/// `Idempotency-Key`: 1 to 128 of `A-Z a-z 0-9 _ - . :`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub fn parse(value: &str) -> Result<Self, ValidationError> {
        let ok_len = (1..=IDEMPOTENCY_KEY_MAX).contains(&value.len());
        let ok_chars = value.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b':'));
        if ok_len && ok_chars {
            Ok(Self(value.to_owned()))
        } else {
            Err(ValidationError::new("Idempotency-Key", "must be 1 to 128 characters of A-Z a-z 0-9 _ - . :"))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A stored note, as the REST API returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Note {
    pub note_id: NoteId,
    pub username: Username,
    pub content: NoteContent,
    pub is_public: bool,
    pub status: NoteStatus,
    pub created_at: Timestamp,
    pub saved_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<Timestamp>,
    /// Which committed state of the note this is: 1 when stored, one more with each committed
    /// change (an edit, then the delete's tombstone). Every event of the note carries the
    /// version it shows, so whoever holds a newer one drops an older event. 0 on items written
    /// before versions were kept.
    #[serde(default)]
    pub version: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NoteStatus {
    Saved,
    /// Not stored: see [`lifecycle::FailedNote`].
    Failed,
}

/// A change to an existing note: at least one of the two fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteChange {
    pub content: Option<NoteContent>,
    pub is_public: Option<bool>,
}

impl NoteChange {
    /// Whether `note` already is what this change would make it.
    pub fn is_applied_to(&self, note: &Note) -> bool {
        self.content.as_ref().is_none_or(|content| content == &note.content)
            && self.is_public.is_none_or(|is_public| is_public == note.is_public)
    }
}

impl Note {
    /// The note after `change`, stamped `updated_at`, one version on.
    pub fn changed(&self, change: &NoteChange, updated_at: Timestamp) -> Note {
        Note {
            content: change.content.clone().unwrap_or_else(|| self.content.clone()),
            is_public: change.is_public.unwrap_or(self.is_public),
            updated_at: Some(updated_at),
            version: self.version + 1,
            ..self.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn username_accepts_the_contract_alphabet() {
        assert!(Username::parse("ab_c-9").is_ok());
        assert!(Username::parse("a".repeat(32)).is_ok());
    }

    #[test]
    fn username_refuses_short_long_and_foreign_characters() {
        for bad in ["ab", &"a".repeat(33), "Alice", "al ice", "al.ice", "émile"] {
            let err = Username::parse(bad).unwrap_err();
            assert_eq!(err.field, "username", "{bad}");
        }
    }

    #[test]
    fn password_length_is_bounded_in_characters() {
        assert!(Password::parse("12345678").is_ok());
        assert!(Password::parse("1234567").is_err());
        assert!(Password::parse("é".repeat(128)).is_ok());
        assert!(Password::parse("x".repeat(129)).is_err());
    }

    #[test]
    fn password_debug_never_shows_the_secret() {
        let p = Password::parse("hunter2hunter2").unwrap();
        assert!(!format!("{p:?}").contains("hunter2"));
    }

    #[test]
    fn content_must_have_visible_characters_and_fit_the_limit() {
        assert!(NoteContent::parse("hi").is_ok());
        assert!(NoteContent::parse("  \n\t ").is_err());
        assert!(NoteContent::parse("").is_err());
        assert!(NoteContent::parse("é".repeat(10_000)).is_ok());
        assert!(NoteContent::parse("two\tcolumns\r\nand lines").is_ok());
        for control in ['\u{1}', '\u{1b}', '\u{7f}', '\u{85}'] {
            assert_eq!(NoteContent::parse(format!("a{control}b")).unwrap_err().field, "content", "{control:?}");
        }
        let stored: NoteContent = serde_json::from_value(serde_json::json!("stored \u{1} before")).unwrap();
        assert_eq!(stored.as_str(), "stored \u{1} before", "a stored content still reads");
        assert_eq!(NoteContent::parse("x".repeat(10_001)).unwrap_err().field, "content");
    }

    #[test]
    fn note_ids_sort_by_creation_time() {
        let first = NoteId::new();
        let second = NoteId::new();
        assert!(first.to_string() < second.to_string());
    }

    #[test]
    fn note_id_parse_accepts_only_the_canonical_form() {
        let id = NoteId::new();
        assert_eq!(NoteId::parse(&id.to_string()).unwrap(), id);
        assert!(NoteId::parse(&id.to_string().to_uppercase()).is_err());
        assert!(NoteId::parse(&id.as_uuid().simple().to_string()).is_err());
        assert!(NoteId::parse("../etc/passwd").is_err());
    }

    #[test]
    fn timestamps_are_rfc3339_utc_with_milliseconds() {
        let t = Timestamp::parse("2026-11-23T10:15:30.123456+02:00").unwrap();
        assert_eq!(t.to_string(), "2026-11-23T08:15:30.123Z");
        assert_eq!(serde_json::to_string(&t).unwrap(), "\"2026-11-23T08:15:30.123Z\"");
    }

    #[test]
    fn idempotency_key_alphabet_and_length() {
        assert!(IdempotencyKey::parse("abc-DEF_1.2:3").is_ok());
        assert!(IdempotencyKey::parse("").is_err());
        assert!(IdempotencyKey::parse(&"k".repeat(129)).is_err());
        assert!(IdempotencyKey::parse("has space").is_err());
    }
}
