notes_core::lambda_main!(connect::Connect);
