notes_core::lambda_main!(broadcast::Broadcast);
