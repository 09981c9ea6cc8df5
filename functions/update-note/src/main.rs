notes_core::lambda_main!(update_note::UpdateNote);
