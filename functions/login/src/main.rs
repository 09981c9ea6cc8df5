notes_core::lambda_main!(login::Login);
