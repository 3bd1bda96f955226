"""Patient data: the identifiers radqc knows, removing them from text, and the egress guard."""
