notes_core::lambda_main!(delete_note::DeleteNote);
