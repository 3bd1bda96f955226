"""The database job queue at scale (issue 13, part 3): see README.md."""
