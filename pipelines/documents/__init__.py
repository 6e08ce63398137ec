"""Documents in: reading files of many formats into sections, chunking, ingestion."""
