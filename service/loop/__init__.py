"""The closed loop: audits, evaluation against audits, audit sampling, champion and challenger."""
