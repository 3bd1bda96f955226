"""End-to-end load benchmark of radqc on PostgreSQL (issue 13, part 1): see README.md."""
