notes_core::lambda_main!(get_notes::GetNotes);
