notes_core::lambda_main!(get_note::GetNote);
