"""schemathesis hooks for scripts/schemathesis.sh (loaded through scripts/schemathesis.toml).

`notes-cursor`, the format shared/openapi.yaml gives a page cursor: what `nextCursor` holds, the
unpadded base64url of `v1:` and a note id in canonical form (shared/src/edge/pagination.rs). JSON
Schema cannot say "a value the server made", so without this a schema-valid cursor is any string
of the pattern, and the server's 400 for a cursor it never made would read as a valid request
refused. With it, the positive cases send cursors of that form (naming notes that may or may not
exist, which the server accepts: a page after them), and the negative cases still send others.
"""

import base64

import schemathesis
from hypothesis import strategies as st

NOTE_ID = st.uuids().map(str)


def cursor(note_id: str) -> str:
    return base64.urlsafe_b64encode(f"v1:{note_id}".encode()).decode().rstrip("=")


schemathesis.openapi.format("notes-cursor", NOTE_ID.map(cursor))
