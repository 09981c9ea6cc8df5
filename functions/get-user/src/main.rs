notes_core::lambda_main!(get_user::GetUser);
