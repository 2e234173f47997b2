"""Pure PDF parts: the safety check of uploaded PDFs and the renderer of Chinese documents."""
