notes_core::lambda_main!(ws_default::WsDefault);
