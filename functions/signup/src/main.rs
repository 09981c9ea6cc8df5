notes_core::lambda_main!(signup::Signup);
