notes_core::lambda_main!(save_note::SaveNote);
