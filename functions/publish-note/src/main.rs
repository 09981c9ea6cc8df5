notes_core::lambda_main!(publish_note::PublishNote);
