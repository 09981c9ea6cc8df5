notes_core::lambda_main!(disconnect::Disconnect);
