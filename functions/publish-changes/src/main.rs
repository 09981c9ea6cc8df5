notes_core::lambda_main!(publish_changes::PublishChanges);
