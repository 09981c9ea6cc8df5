notes_core::lambda_main!(notify::Notify);
