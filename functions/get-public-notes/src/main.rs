notes_core::lambda_main!(get_public_notes::GetPublicNotes);
